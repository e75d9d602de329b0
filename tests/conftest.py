"""Shared fixtures. Everything runs on real servers: the PostgreSQL and Redis that
`config.devstack test` started or that DATABASE_URL / REDIS_URL name."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import IO

import pytest
import redis
from asgiref.sync import sync_to_async
from asgiref.testing import ApplicationCommunicator as BaseApplicationCommunicator
from channels.testing import WebsocketCommunicator
from channels.testing.application import ApplicationCommunicator as ChannelsApplicationCommunicator
from django.conf import settings
from django.db import connections
from django.test import Client

from accounts.models import User
from accounts.services import token_issue
from config.devstack import free_loopback_port as free_port
from config.devstack import wait_for_port
from tests.factories import AskerFactory, LawyerFactory, StaffFactory

BASE_DIR = Path(settings.BASE_DIR)
ORIGIN = b"http://127.0.0.1"


# --- transactional tests ----------------------------------------------------------------------
def pytest_collection_modifyitems(items) -> None:
    """Every transactional test uses serialized rollback: it restores the reference data
    (regions, categories) from the snapshot taken with the test database and flushes without
    re-creating content types. A transactional test without it re-creates them with new ids, and
    the next test with it then fails on duplicate content types (seen with messaging's tests
    followed by tests/reliability and tests/security in one run)."""
    for item in items:
        marker = item.get_closest_marker("django_db")
        kwargs = dict(marker.kwargs) if marker is not None else {}
        transactional = kwargs.get("transaction") or "transactional_db" in getattr(
            item, "fixturenames", ()
        )
        if transactional and not kwargs.get("serialized_rollback"):
            kwargs.update(transaction=True, serialized_rollback=True)
            item.add_marker(pytest.mark.django_db(**kwargs), append=False)


# --- Redis ------------------------------------------------------------------------------
def _flush_test_redis() -> None:
    for db in (settings.REDIS_DB_APP, settings.REDIS_DB_BROKER, settings.REDIS_DB_RESULTS):
        client = redis.Redis.from_url(settings.REDIS_URL, db=db)
        client.flushdb()
        client.close()


@pytest.fixture(autouse=True)
def clean_redis() -> Iterator[None]:
    """Presence, counters and throttles start empty in every test."""
    client = redis.Redis.from_url(settings.REDIS_APP_URL)
    client.flushdb()
    client.close()
    yield


@pytest.fixture(autouse=True)
def reference_data_present(request, django_db_blocker) -> None:
    """Regions and categories come from a data migration; a transactional test's flush wipes
    them, so they are put back before any test that uses the database."""
    uses_db = request.node.get_closest_marker("django_db") is not None or bool(
        {"db", "transactional_db"} & set(request.fixturenames)
    )
    if not uses_db:
        return
    from marketplace.models import Category, Region
    from marketplace.reference_data import load_reference_data

    with django_db_blocker.unblock():
        if not (Region.objects.exists() and Category.objects.exists()):
            load_reference_data(Region, Category)


@pytest.fixture(autouse=True)
def fresh_process_caches() -> None:
    """Per-process caches start empty, so pinned query counts do not depend on test order."""
    from marketplace import presence

    presence._region_codes.cache_clear()


@pytest.fixture
def redis_client() -> Iterator[redis.Redis]:
    client = redis.Redis.from_url(settings.REDIS_APP_URL)
    yield client
    client.close()


# --- database connections in async tests --------------------------------------------------
# Channels' test communicator turns `channels.db.close_old_connections` into a no-op while a
# test sends to a socket or waits on one (to spare a TestCase's own connection). Every consumer
# call in `DatabaseSyncToAsync` then left its pooled connection checked out in an executor
# thread of the test's event loop, the loop took those threads with it when it closed, and late
# in a full run the pool ran dry and sockets hung. Here consumers hand connections back as they
# do in production; the test's own connection lives in the main thread, which that never
# touches.
ChannelsApplicationCommunicator.send_input = BaseApplicationCommunicator.send_input  # type: ignore[method-assign]
ChannelsApplicationCommunicator.receive_output = BaseApplicationCommunicator.receive_output  # type: ignore[method-assign]


@pytest.fixture(autouse=True)
async def close_db_connections_after_async_test(request) -> Iterator[None]:
    yield
    if request.node.get_closest_marker("asyncio") is not None:
        await sync_to_async(connections.close_all)()


# --- users and clients --------------------------------------------------------------------
@pytest.fixture
def asker(db) -> User:
    return AskerFactory()


@pytest.fixture
def other_asker(db) -> User:
    return AskerFactory()


@pytest.fixture
def lawyer(db) -> User:
    return LawyerFactory()


@pytest.fixture
def other_lawyer(db) -> User:
    return LawyerFactory()


@pytest.fixture
def staff(db) -> User:
    return StaffFactory()


def bearer_for(user: User) -> str:
    _, raw = token_issue(user=user, name="test")
    return raw


class ApiClient:
    """JSON calls to /api/v1 as a user (bearer token) or anonymously."""

    def __init__(self, user: User | None = None):
        self.client = Client()
        self.headers = {"HTTP_AUTHORIZATION": f"Bearer {bearer_for(user)}"} if user else {}

    def _call(self, method: str, path: str, data=None):
        url = path if path.startswith("/") else f"/api/v1/{path}"
        kwargs = dict(self.headers)
        if data is not None:
            import json

            kwargs.update(data=json.dumps(data), content_type="application/json")
        return getattr(self.client, method)(url, **kwargs)

    def get(self, path: str, params: dict | None = None):
        url = path if path.startswith("/") else f"/api/v1/{path}"
        return self.client.get(url, params or {}, **self.headers)

    def post(self, path: str, data=None):
        return self._call("post", path, data if data is not None else {})

    def put(self, path: str, data=None):
        return self._call("put", path, data if data is not None else {})

    def patch(self, path: str, data=None):
        return self._call("patch", path, data if data is not None else {})

    def delete(self, path: str):
        return self._call("delete", path)


@pytest.fixture
def api() -> Callable[[User | None], ApiClient]:
    """`api(user)` → an ApiClient authenticated as that user; `api(None)` is anonymous."""
    return ApiClient


# --- WebSocket communicators (in-process, real Redis channel layer) -----------------------
async def ws_connect(
    user: User | None, *, origin: bytes = ORIGIN, headers: Iterable[tuple[bytes, bytes]] = ()
) -> WebsocketCommunicator:
    from config.asgi import application

    headers = [(b"origin", origin), *headers]
    if user is not None:
        raw = await sync_to_async(bearer_for)(user)
        headers.append((b"authorization", f"Bearer {raw}".encode()))
    communicator = WebsocketCommunicator(application, "/ws/", headers=headers)
    connected, _ = await communicator.connect(timeout=5)
    assert connected
    return communicator


@pytest.fixture
async def ws() -> Iterator[Callable]:
    """`await ws(user)` opens /ws/ as that user; every socket is closed after the test."""
    opened: list[WebsocketCommunicator] = []

    async def open_socket(user: User | None, **kwargs) -> WebsocketCommunicator:
        communicator = await ws_connect(user, **kwargs)
        opened.append(communicator)
        return communicator

    yield open_socket
    for communicator in opened:
        try:
            await communicator.disconnect(timeout=2)
        except Exception:  # noqa: S110 - already closed by the test
            pass


async def receive_until(communicator: WebsocketCommunicator, frame_type: str, timeout: float = 3):
    """Next frame of the given type, skipping others (presence, offers...)."""
    deadline = time.monotonic() + timeout
    while True:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise AssertionError(f"no {frame_type!r} frame within {timeout}s")
        frame = await communicator.receive_json_from(timeout=remaining)
        if frame.get("type") == frame_type:
            return frame


# --- a real Celery worker ----------------------------------------------------------------
@pytest.fixture(scope="session")
def celery_test_worker(django_db_setup, django_db_blocker):
    """A real worker thread (solo pool) on the test broker, consuming every queue."""
    from celery.contrib.testing.worker import start_worker

    from config.celery_app import app
    from workers.routing import QUEUES

    _flush_test_redis()
    with django_db_blocker.unblock():
        with start_worker(
            app,
            pool="solo",
            concurrency=1,
            perform_ping_check=False,
            queues=list(QUEUES),
            shutdown_timeout=10,
        ) as worker:
            yield worker


# --- real server processes ---------------------------------------------------------------
def test_database_url() -> str:
    """DATABASE_URL of the test database pytest-django created, for child processes."""
    from urllib.parse import quote

    db = settings.DATABASES["default"]
    host = db.get("HOST") or "127.0.0.1"
    host_part = quote(host, safe="") if host.startswith("/") else host
    port = f":{db['PORT']}" if db.get("PORT") else ""
    user = db.get("USER") or "postgres"
    password = f":{db['PASSWORD']}" if db.get("PASSWORD") else ""
    return f"postgres://{user}{password}@{host_part}{port}/{db['NAME']}"


def child_env(**extra: str) -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        DJANGO_SETTINGS_MODULE="config.settings.test",
        DATABASE_URL=test_database_url(),
        REDIS_URL=settings.REDIS_URL,
        PYTHONUNBUFFERED="1",
    )
    env.update(extra)
    return env


class ServerProcess:
    def __init__(self, port: int, process: subprocess.Popen):
        self.port = port
        self.process = process

    @property
    def http_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def ws_url(self) -> str:
        return f"ws://127.0.0.1:{self.port}/ws/"

    def stop(self, sig: int | None = None) -> None:
        if self.process.poll() is None:
            if sig is None:
                self.process.terminate()
            else:
                self.process.send_signal(sig)
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


def start_web_process(
    port: int | None = None, output: IO | None = None, **env: str
) -> ServerProcess:
    """The Procfile's web server (one worker) on the test database; `output` (a file) takes
    its stdout and stderr so a test can look for tracebacks, else they go to pytest's own."""
    port = port or free_port()
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "config.serve",
            "--port",
            str(port),
            "--workers",
            "1",
            "--log-level",
            "warning",
        ],
        cwd=BASE_DIR,
        env=child_env(**env),
        stdout=output,
        stderr=output,
    )
    wait_for_port(port, timeout=20)
    return ServerProcess(port, process)


@pytest.fixture
def web_processes(transactional_db) -> Iterator[Callable[..., ServerProcess]]:
    """`web_processes()` starts a real uvicorn process on the test database; all are stopped
    after the test. Use with `transactional_db` data: the process sees only committed rows."""
    started: list[ServerProcess] = []

    def start(**env: str) -> ServerProcess:
        server = start_web_process(**env)
        started.append(server)
        return server

    yield start
    for server in started:
        server.stop()
