"""The database pool's check at checkout (config.database_pool, config.postgresql): a healthy
connection is lent without a round trip, one the server ended is refused. Real PostgreSQL."""

from __future__ import annotations

import select
import time

import psycopg
import pytest
from django.db import connection

from config.database_pool import check_at_checkout
from tests.reliability.conftest import admin_connection as connect

pytestmark = pytest.mark.django_db(transaction=True)


def last_query_of(pid: int) -> str:
    with connect() as admin:
        row = admin.execute("SELECT query FROM pg_stat_activity WHERE pid = %s", [pid]).fetchone()
    return row[0] if row else ""


def test_a_healthy_connection_passes_without_a_round_trip():
    with connect() as conn:
        conn.execute("SELECT 'lent before'")
        check_at_checkout(conn)
        # an empty query (psycopg's own check) would be the backend's last query now
        assert last_query_of(conn.info.backend_pid) == "SELECT 'lent before'"
        assert conn.execute("SELECT 1").fetchone() == (1,)


def test_a_connection_the_server_terminated_is_refused():
    with connect() as conn:
        with connect() as admin:
            admin.execute("SELECT pg_terminate_backend(%s)", [conn.info.backend_pid])
        poller = select.poll()
        poller.register(conn.fileno(), select.POLLIN)
        assert poller.poll(5000), "the server wrote nothing before closing"
        with pytest.raises(psycopg.OperationalError):
            check_at_checkout(conn)


def test_a_closed_connection_is_refused():
    conn = connect()
    conn.close()
    with pytest.raises(psycopg.OperationalError):
        check_at_checkout(conn)


def test_the_project_pool_lends_idle_connections_without_a_round_trip():
    pool = connection.pool
    assert pool is not None
    conn = pool.getconn()
    conn.execute("SELECT 'returned to the pool'")
    pid = conn.info.backend_pid
    pool.putconn(conn)
    lent = []
    try:
        deadline = time.monotonic() + 5
        while pid not in [c.info.backend_pid for c in lent] and time.monotonic() < deadline:
            lent.append(pool.getconn(timeout=1))
        assert pid in [c.info.backend_pid for c in lent]
        assert last_query_of(pid) == "SELECT 'returned to the pool'"
    finally:
        for c in lent:
            pool.putconn(c)


def test_the_project_pool_replaces_a_connection_the_server_terminated():
    pool = connection.pool
    assert pool is not None
    conn = pool.getconn()
    pid = conn.info.backend_pid
    pool.putconn(conn)
    with connect() as admin:
        admin.execute("SELECT pg_terminate_backend(%s)", [pid])
    time.sleep(0.2)
    lent = [pool.getconn(timeout=5) for _ in range(pool.get_stats()["pool_available"] or 1)]
    try:
        assert pid not in [c.info.backend_pid for c in lent]
        assert all(c.execute("SELECT 1").fetchone() == (1,) for c in lent)
    finally:
        for c in lent:
            pool.putconn(c)
