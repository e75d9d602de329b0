"""How Django's psycopg pool checks a connection before lending it."""

from __future__ import annotations

import select

import psycopg
from psycopg import pq
from psycopg_pool import ConnectionPool


def check_at_checkout(conn: psycopg.Connection) -> None:
    """The pool's `check`: a connection the server dropped while it sat in the pool (a restart,
    a failover, an admin's pg_terminate_backend) is replaced before anyone uses it.

    psycopg's own `ConnectionPool.check_connection` proves every connection with an empty query:
    a round trip on every checkout, so on every request and every task (two of them on the
    post → offer.new path). A server ending a connection writes to it first (the FATAL error of
    a termination) or closes it, and either makes the socket readable, where an idle
    connection's socket is not. So the round trip runs only then, and a connection already
    known to be broken is refused at once."""
    if conn.closed or conn.pgconn.status != pq.ConnStatus.OK:
        raise psycopg.OperationalError("the connection is closed")
    poller = select.poll()  # not select.select: a web process's sockets go past fd 1024
    poller.register(conn.fileno(), select.POLLIN)
    if poller.poll(0):
        ConnectionPool.check_connection(conn)
