"""What the benchmark starts: PostgreSQL and Redis (embedded ones unless DATABASE_URL /
REDIS_URL are set), a database of its own, and the server processes each section needs, all
on loopback and all stopped when the run ends (also on Ctrl-C)."""

from __future__ import annotations

import os
import re
import shlex
import signal
import socket
import subprocess
import sys
import time
from contextlib import ExitStack
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import psutil

from config.devstack import ensure_database, ensure_services, free_loopback_port, wait_for_port

BASE_DIR = Path(__file__).resolve().parents[2]
BENCH_DB = "lawline_bench"
# Redis databases of their own, so a bench against a shared Redis never touches the dev
# server's (0-3) or the test suite's (10-13) keys.
BENCH_REDIS_DBS = {
    "REDIS_DB_APP": "4",
    "REDIS_DB_BROKER": "5",
    "REDIS_DB_RESULTS": "6",
    "REDIS_DB_CHANNELS": "7",
}


def with_database(url: str, name: str) -> str:
    parts = urlsplit(url)
    return urlunsplit((parts.scheme, parts.netloc, f"/{name}", parts.query, parts.fragment))


class Proc:
    """A child process the bench started, with the port it serves and its memory."""

    def __init__(self, name: str, popen: subprocess.Popen, port: int | None):
        self.name = name
        self.popen = popen
        self.port = port

    @property
    def pid(self) -> int:
        return self.popen.pid

    def processes(self) -> list[psutil.Process]:
        try:
            root = psutil.Process(self.pid)
            return [root, *root.children(recursive=True)]
        except psutil.NoSuchProcess:
            return []

    def rss(self) -> int:
        """Resident memory of the process and its children (uvicorn's workers)."""
        total = 0
        for proc in self.processes():
            try:
                total += proc.memory_info().rss
            except psutil.NoSuchProcess:
                pass
        return total

    def cpu_seconds(self) -> float:
        total = 0.0
        for proc in self.processes():
            try:
                times = proc.cpu_times()
                total += times.user + times.system
            except psutil.NoSuchProcess:
                pass
        return total

    def stop(self) -> None:
        if self.popen.poll() is not None:
            return
        # our own child, by its pid: SIGTERM first (uvicorn, celery shut down cleanly)
        self.popen.send_signal(signal.SIGTERM)
        try:
            self.popen.wait(timeout=10)
        except subprocess.TimeoutExpired:
            for proc in reversed(self.processes()):
                try:
                    proc.kill()
                except psutil.NoSuchProcess:
                    pass
            self.popen.wait(timeout=5)


def procfile_command(process_type: str, env: dict[str, str]) -> list[str]:
    """The Procfile's command line for one process type, with ${VAR:-default} expanded in
    `env`: the bench runs exactly what `make run` runs."""
    for line in (BASE_DIR / "Procfile").read_text().splitlines():
        name, _, command = line.partition(":")
        if name.strip() == process_type:
            break
    else:
        raise LookupError(f"no {process_type!r} line in the Procfile")

    def expand(match: re.Match[str]) -> str:
        var, default = match.group(1), match.group(3) or ""
        return env.get(var) or default

    expanded = re.sub(r"\$\{(\w+)(:-([^}]*))?\}", expand, command.strip())
    argv = shlex.split(expanded)
    if argv[0] == "python":
        argv[0] = sys.executable
    return argv


class Stack:
    def __init__(self, exit_stack: ExitStack):
        self.exit_stack = exit_stack
        self.procs: list[Proc] = []
        self.env: dict[str, str] = {}
        self.database_url = ""
        self.redis_url = ""
        self.logs = BASE_DIR / ".bench" / "logs"

    # --- services -----------------------------------------------------------------------
    def start_services(self) -> None:
        shared_redis = bool(os.environ.get("REDIS_URL"))
        # "test" purpose: private data folders in /tmp, removed at the end
        ensure_services(self.exit_stack, purpose="test")
        self.database_url = with_database(os.environ["DATABASE_URL"], BENCH_DB)
        ensure_database(self.database_url)
        self.redis_url = os.environ["REDIS_URL"]
        self.env = {
            "DJANGO_SETTINGS_MODULE": "config.settings.local",
            "DJANGO_DEBUG": "false",
            "DATABASE_URL": self.database_url,
            "REDIS_URL": self.redis_url,
            "REDIS_KEY_PREFIX": "lawline-bench:",
            "PYTHONUNBUFFERED": "1",
            **(BENCH_REDIS_DBS if shared_redis else {}),
        }
        os.environ.update(self.env)
        self.logs.mkdir(parents=True, exist_ok=True)

    def django_setup(self) -> None:
        import django

        django.setup()

    def migrate(self) -> None:
        subprocess.run(
            [sys.executable, "manage.py", "migrate", "--noinput", "-v", "0"],
            cwd=BASE_DIR,
            env=self.child_env(),
            check=True,
        )

    def child_env(self, **extra: str) -> dict[str, str]:
        env = dict(os.environ)
        env.update(self.env)
        env.update(extra)
        return env

    def flush_redis(self) -> None:
        import redis
        from django.conf import settings

        for db in {
            settings.REDIS_DB_APP,
            settings.REDIS_DB_BROKER,
            settings.REDIS_DB_RESULTS,
            settings.REDIS_DB_CHANNELS,
        }:
            client = redis.Redis.from_url(self.redis_url, db=db)
            client.flushdb()
            client.close()

    # --- processes ----------------------------------------------------------------------
    def spawn(
        self,
        name: str,
        argv: list[str],
        *,
        port: int | None = None,
        env: dict[str, str] | None = None,
        wait: float = 30.0,
    ) -> Proc:
        log = open(self.logs / f"{name}.log", "ab")  # noqa: SIM115 - closed with the process
        popen = subprocess.Popen(
            argv,
            cwd=BASE_DIR,
            env=self.child_env(**(env or {})),
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        log.close()
        proc = Proc(name, popen, port)
        self.procs.append(proc)
        self.exit_stack.callback(proc.stop)
        if port is not None:
            try:
                wait_for_port(port, timeout=wait)
            except RuntimeError:
                proc.stop()
                tail = (self.logs / f"{name}.log").read_text(errors="replace")[-2000:]
                raise RuntimeError(f"{name} did not listen on {port}:\n{tail}") from None
        return proc

    def stop(self, proc: Proc) -> None:
        proc.stop()
        if proc in self.procs:
            self.procs.remove(proc)

    def web(self, *, workers: int = 1, name: str = "web", **env: str) -> Proc:
        """The Procfile's web line on a free loopback port."""
        port = free_loopback_port()
        run_env = {
            **self.env,
            **env,
            "LAWLINE_HOST": "127.0.0.1",
            "LAWLINE_PORT": str(port),
            "WEB_CONCURRENCY": str(workers),
        }
        argv = procfile_command("web", run_env)
        proc = self.spawn(f"{name}-{port}", argv, port=port, env=run_env)
        wait_ready(port, workers)
        return proc

    def uvicorn(self, app: str, *, workers: int = 1, name: str, extra: tuple = ()) -> Proc:
        port = free_loopback_port()
        argv = [
            sys.executable,
            "-m",
            "uvicorn",
            app,
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--workers",
            str(workers),
            "--no-access-log",
            "--log-level",
            "warning",
            "--lifespan",
            "off",
            *extra,
        ]
        proc = self.spawn(f"{name}-{port}", argv, port=port)
        wait_ready(port, workers)
        return proc

    def project_server(self, app: str, *, workers: int, name: str) -> Proc:
        """Any ASGI app under the Procfile's web server (`config/serve.py`)."""
        port = free_loopback_port()
        argv = [sys.executable, "-m", "config.serve", "--app", app, "--port", str(port)]
        argv += ["--workers", str(workers), "--log-level", "warning"]
        proc = self.spawn(f"{name}-{port}", argv, port=port)
        wait_ready(port, workers)
        return proc

    def gunicorn(self, app: str, *, workers: int, name: str, extra: tuple = ()) -> Proc:
        port = free_loopback_port()
        argv = [
            sys.executable,
            "-m",
            "gunicorn",
            app,
            "--bind",
            f"127.0.0.1:{port}",
            "--workers",
            str(workers),
            "--log-level",
            "warning",
            *extra,
        ]
        proc = self.spawn(f"{name}-{port}", argv, port=port)
        wait_ready(port, workers)
        return proc

    def celery_worker(
        self, *, name: str, concurrency: int = 1, pool: str = "prefork", **env: str
    ) -> Proc:
        """A worker of the project's Celery app (plus the bench's no-op task) on every queue."""
        argv = [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "tests.bench.servers.celery_bench",
            "worker",
            "-Q",
            "default,matching,periodic",
            "--pool",
            pool,
            "--concurrency",
            str(concurrency),
            "--loglevel",
            "WARNING",
            "--without-gossip",
            "--without-mingle",
            "--without-heartbeat",
            "-n",
            f"{name}@%h",
        ]
        return self.spawn(name, argv, env=env)


def wait_ready(port: int, workers: int, timeout: float = 30.0) -> None:
    """Wait until an HTTP request is answered; with several workers give the others a moment
    to import the app, so the first seconds of a measurement are not spent booting."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=2) as sock:
                sock.sendall(b"GET /__bench_ready HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
                if sock.recv(16):
                    break
        except OSError:
            time.sleep(0.1)
    if workers > 1:
        time.sleep(1.0 + 0.5 * workers)
