"""Fault tests own their services: a Redis they can stop, web processes and Celery workers they
can kill, and a superuser connection to PostgreSQL to cut other sessions' connections.

Every service a test starts here talks to the test database (pytest-django's, through
`child_env`) and to a *private* Redis (`private_redis`), so broker queues, presence and the
channel layer of a fault test are never shared with the session's in-thread Celery worker or
with any other test.
"""

from __future__ import annotations

import asyncio
import json
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import psutil
import psycopg
import pytest
import redis
import websockets
from celery import Celery
from django.conf import settings

from config.devstack import EmbeddedRedis
from config.settings.base import redis_url
from tests.conftest import (
    BASE_DIR,
    ServerProcess,
    bearer_for,
    child_env,
    start_web_process,
)


# --- a Redis of the test's own ----------------------------------------------------------------
class RestartableRedis(EmbeddedRedis):
    """An embedded redis-server that can be stopped and started again on the same port (it
    comes back empty, as a Redis without persistence does after a crash)."""

    def restart(self) -> RestartableRedis:
        self.kill()
        self.start()
        return self

    def client(self, db: int) -> redis.Redis:
        return redis.Redis.from_url(redis_url(self.url, db), socket_timeout=5)


@pytest.fixture
def private_redis(tmp_path: Path) -> Iterator[RestartableRedis]:
    server = RestartableRedis(tmp_path / "redis")
    server.start()
    yield server
    server.kill()


# --- web processes and Celery workers on that Redis --------------------------------------------
@pytest.fixture
def stack(transactional_db, private_redis: RestartableRedis, tmp_path: Path):
    """Starts uvicorn processes and Celery workers on the test database and the private Redis;
    stops every one of them after the test."""
    started = Stack(private_redis, tmp_path)
    yield started
    started.stop_all()


@dataclass
class WorkerProcess:
    process: subprocess.Popen
    log_path: Path

    @property
    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def pool_children(self) -> list[psutil.Process]:
        return psutil.Process(self.process.pid).children()

    def kill(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL)
            self.process.wait(timeout=10)

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        # a prefork pool's children die with their parent; make sure of it
        for child in psutil.process_iter(["ppid"]):
            if child.info["ppid"] == self.process.pid:
                child.kill()


@dataclass
class Stack:
    redis: RestartableRedis
    tmp_path: Path
    web: list[ServerProcess] = field(default_factory=list)
    workers: list[WorkerProcess] = field(default_factory=list)
    web_logs: list[Path] = field(default_factory=list)

    def web_process(self, **env: str) -> ServerProcess:
        """A uvicorn process whose stderr is kept (see `web_stderr`)."""
        log_path = self.tmp_path / f"web-{len(self.web)}.log"
        log = log_path.open("wb")
        server = start_web_process(output=log, REDIS_URL=self.redis.url, **env)
        self.web.append(server)
        self.web_logs.append(log_path)
        return server

    def web_stderr(self) -> str:
        return "\n".join(p.read_text(errors="replace") for p in self.web_logs if p.exists())

    def celery_worker(
        self, *, pool: str = "solo", queues: str = "default,matching,periodic", **env: str
    ) -> WorkerProcess:
        log_path = self.tmp_path / f"worker-{len(self.workers)}.log"
        process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "celery",
                "-A",
                "config.celery_app",
                "worker",
                "-Q",
                queues,
                "--pool",
                pool,
                "--concurrency",
                "1",
                "--loglevel",
                "INFO",
                "-n",
                f"fault-{uuid.uuid4().hex[:8]}@%h",
                "--without-gossip",
                "--without-mingle",
            ],
            cwd=BASE_DIR,
            env=child_env(REDIS_URL=self.redis.url, **env),
            stdout=log_path.open("wb"),
            stderr=subprocess.STDOUT,
        )
        worker = WorkerProcess(process, log_path)
        self.workers.append(worker)
        wait_until(
            lambda: "ready." in worker.log or process.poll() is not None,
            timeout=30,
            what="the Celery worker to be ready",
        )
        assert process.poll() is None, worker.log
        return worker

    def celery_beat(self, **env: str) -> WorkerProcess:
        """Production's beat schedule, sending to this stack's broker (`env`: settings)."""
        log_path = self.tmp_path / "beat.log"
        process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "celery",
                "-A",
                "config.celery_app",
                "beat",
                "--loglevel",
                "INFO",
                "--schedule",
                str(self.tmp_path / "beat-schedule"),
            ],
            cwd=BASE_DIR,
            env=child_env(REDIS_URL=self.redis.url, **env),
            stdout=log_path.open("wb"),
            stderr=subprocess.STDOUT,
        )
        beat = WorkerProcess(process, log_path)
        self.workers.append(beat)
        return beat

    def celery_client(self) -> Celery:
        """A Celery app that sends to this stack's broker (routes as in production)."""
        app = Celery(
            "lawline-fault",
            broker=redis_url(self.redis.url, settings.REDIS_DB_BROKER),
            backend=redis_url(self.redis.url, settings.REDIS_DB_RESULTS),
        )
        app.conf.task_routes = "workers.routing.route_task"
        app.conf.broker_transport_options = settings.CELERY_BROKER_TRANSPORT_OPTIONS
        return app

    def broker(self) -> redis.Redis:
        return self.redis.client(settings.REDIS_DB_BROKER)

    def stop_all(self) -> None:
        for worker in self.workers:
            worker.stop()
        for server in self.web:
            server.stop()


# --- waiting ----------------------------------------------------------------------------------
def wait_until(check: Callable[[], Any], *, timeout: float, what: str, interval: float = 0.05):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        result = check()
        if result:
            return result
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout}s waiting for {what}")


async def async_wait_until(
    check: Callable[[], Any], *, timeout: float, what: str, interval: float = 0.05
):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        result = check()
        if result:
            return result
        await asyncio.sleep(interval)
    raise AssertionError(f"timed out after {timeout}s waiting for {what}")


# --- PostgreSQL as its superuser ---------------------------------------------------------------
def admin_connection() -> psycopg.Connection:
    """A separate autocommit connection to the test database (the embedded server's user is a
    superuser, so it may terminate other sessions)."""
    db = settings.DATABASES["default"]
    params = {
        "host": db.get("HOST") or None,
        "port": db.get("PORT") or None,
        "user": db.get("USER") or None,
        "password": db.get("PASSWORD") or None,
        "dbname": db["NAME"],
    }
    conninfo = psycopg.conninfo.make_conninfo(**{k: str(v) for k, v in params.items() if v})
    return psycopg.connect(conninfo, autocommit=True)


def backends_of_test_database(conn: psycopg.Connection, *, exclude_pid: int) -> list[int]:
    rows = conn.execute(
        "SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND pid <> %s "
        "AND backend_type = 'client backend'",
        [exclude_pid],
    ).fetchall()
    return [row[0] for row in rows]


# --- a real WebSocket client -------------------------------------------------------------------
class LiveSocket:
    """A `websockets` client that reads in the background. It keeps every frame it got, the
    highest message seq per conversation (the cursors a real client resumes with), and can
    reconnect to any of several servers and `resume`."""

    def __init__(self, token: str, url: str):
        self.token = token
        self.url = url
        self.frames: list[dict[str, Any]] = []
        self.cursors: dict[int, int] = {}
        self.connection: Any = None
        self.reader: asyncio.Task | None = None
        self.closed = asyncio.Event()
        self.connects = 0

    @classmethod
    async def open(cls, user, url: str) -> LiveSocket:
        from asgiref.sync import sync_to_async

        token = await sync_to_async(bearer_for)(user)
        sock = cls(token, url)
        await sock.connect()
        return sock

    async def connect(self, url: str | None = None, *, open_timeout: float = 5) -> None:
        self.url = url or self.url
        origin = self.url.replace("ws://", "http://").split("/ws/")[0]
        self.connection = await websockets.connect(
            self.url,
            origin=origin,
            additional_headers={"Authorization": f"Bearer {self.token}"},
            open_timeout=open_timeout,
            max_size=2**22,
            ping_interval=None,
        )
        self.closed = asyncio.Event()
        self.connects += 1
        self.reader = asyncio.ensure_future(self._read(self.connection))

    async def _read(self, connection) -> None:
        try:
            async for raw in connection:
                frame = json.loads(raw)
                self.frames.append(frame)
                if frame.get("type") == "message.new":
                    conversation = frame["conversation"]
                    self.cursors[conversation] = max(
                        self.cursors.get(conversation, 0), frame["seq"]
                    )
        except websockets.ConnectionClosed:
            pass
        finally:
            self.closed.set()

    async def send(self, frame: dict[str, Any]) -> None:
        await self.connection.send(json.dumps(frame))

    async def send_message(self, conversation: int, body: str, client_id: str | None = None):
        client_id = client_id or uuid.uuid4().hex
        await self.send(
            {
                "type": "message.send",
                "conversation": conversation,
                "client_id": client_id,
                "body": body,
            }
        )
        return await self.expect(
            lambda f: f.get("ref") == client_id or f.get("client_id") == client_id,
            what=f"the answer to {client_id}",
        )

    def matching(self, predicate: Callable[[dict], bool], since: int = 0) -> list[dict]:
        return [f for f in self.frames[since:] if predicate(f)]

    async def expect(
        self,
        predicate: Callable[[dict], bool],
        *,
        since: int = 0,
        timeout: float = 10,
        what: str = "a frame",
    ) -> dict[str, Any]:
        found = await async_wait_until(
            lambda: self.matching(predicate, since), timeout=timeout, what=what
        )
        return found[0]

    def bodies(self, conversation: int) -> list[str]:
        """Message bodies of a conversation in seq order, each seq once (as a client keeps
        them: a frame at or below a seq it has is a duplicate it drops)."""
        by_seq: dict[int, str] = {}
        for frame in self.frames:
            if frame.get("type") == "message.new" and frame["conversation"] == conversation:
                by_seq.setdefault(frame["seq"], frame["body"])
        return [by_seq[seq] for seq in sorted(by_seq)]

    async def reconnect(self, urls: list[str], *, timeout: float = 30) -> str:
        """Connect to the first server that answers (retrying), then `resume` from the
        cursors. Returns the url it reached."""
        await self.close()
        deadline = time.monotonic() + timeout
        last_error: Exception | None = None
        while time.monotonic() < deadline:
            for url in urls:
                try:
                    await self.connect(url)
                except (TimeoutError, OSError, websockets.InvalidHandshake) as exc:
                    last_error = exc
                    continue
                await self.send({"type": "resume", "cursors": self.cursors})
                return url
            await asyncio.sleep(0.2)
        raise AssertionError(f"could not reconnect to any of {urls}: {last_error!r}")

    async def close(self) -> None:
        if self.connection is not None:
            try:
                await asyncio.wait_for(self.connection.close(), 5)
            except Exception:  # noqa: S110 - the server may be gone already
                pass
        if self.reader is not None:
            try:
                await asyncio.wait_for(self.reader, 5)
            except Exception:  # noqa: S110
                pass


def run(coroutine) -> Any:
    """Run a scenario's event loop from a sync test (which keeps the ORM usable)."""
    return asyncio.run(coroutine)


def tracebacks(text: str) -> list[str]:
    return [line for line in text.splitlines() if "Traceback" in line or " ERROR " in line]
