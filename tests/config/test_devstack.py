"""The embedded servers that make `make run` / `make test` work on a bare machine."""

import psycopg
import redis

from config.database_url import database_config
from config.devstack import EmbeddedRedis, ensure_database, start_embedded_postgres


def test_embedded_redis_starts_on_a_free_loopback_port_and_answers(tmp_path):
    server = EmbeddedRedis(tmp_path).start()
    try:
        client = redis.Redis.from_url(server.url)
        assert client.ping()
        client.set("k", "v")
        assert client.get("k") == b"v"
        assert server.port != 6379
    finally:
        server.stop()


def test_embedded_postgres_starts_and_answers(tmp_path):
    url = start_embedded_postgres(tmp_path / "pgdata")
    ensure_database(url)
    cfg = database_config(url)
    with psycopg.connect(host=cfg["HOST"], user=cfg["USER"], dbname=cfg["NAME"]) as conn:
        version = conn.execute("SHOW server_version_num").fetchone()[0]
        assert int(version) >= 150000
        # a real server: row locks that skip locked rows work
        conn.execute("CREATE TABLE t (id int primary key)")
        conn.execute("INSERT INTO t VALUES (1)")
        assert conn.execute("SELECT id FROM t FOR UPDATE SKIP LOCKED").fetchall() == [(1,)]


def test_database_url_accepts_a_socket_directory():
    cfg = database_config("postgres://postgres@%2Ftmp%2Fpg%20sock/lawline")
    assert cfg["HOST"] == "/tmp/pg sock"
    assert cfg["NAME"] == "lawline"
