"""The web server of the Procfile (`config/serve.py`): its workers each accept on their own
socket, so a crowd of keep-alive clients spreads over them; a killed worker is replaced; a
taken port is a clear error. Real processes on the test database."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time

import psutil
import pytest

from tests.conftest import BASE_DIR, child_env, free_port, wait_for_port

pytestmark = pytest.mark.django_db(transaction=True)

CLIENTS = 40
BURSTS = 5


def start_server(port: int, workers: int) -> subprocess.Popen:
    process = subprocess.Popen(
        [sys.executable, "-m", "config.serve", "--port", str(port), "--workers", str(workers)]
        + ["--log-level", "warning"],
        cwd=BASE_DIR,
        env=child_env(),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    wait_for_port(port, timeout=30)
    return process


def stop_server(process: subprocess.Popen) -> None:
    process.terminate()
    try:
        process.wait(timeout=15)
    except subprocess.TimeoutExpired:
        for child in psutil.Process(process.pid).children(recursive=True):
            child.kill()
        process.kill()
        process.wait()


def is_worker(child: psutil.Process) -> bool:
    """Not a killed worker the supervisor has yet to reap, nor multiprocessing's tracker."""
    try:
        return child.status() != psutil.STATUS_ZOMBIE and "resource_tracker" not in " ".join(
            child.cmdline()
        )
    except psutil.Error:
        return False


def listens(pid: int, port: int) -> bool:
    try:
        return any(
            conn.status == psutil.CONN_LISTEN and conn.laddr.port == port
            for conn in psutil.Process(pid).net_connections(kind="tcp")
        )
    except psutil.Error:
        return False


def worker_pids(process: subprocess.Popen, port: int, count: int, timeout: float = 30) -> list[int]:
    """The workers, once `count` of them listen on their own sockets."""
    deadline = time.monotonic() + timeout
    workers: list[int] = []
    while time.monotonic() < deadline:
        workers = [
            child.pid for child in psutil.Process(process.pid).children() if is_worker(child)
        ]
        if len(workers) == count and all(listens(pid, port) for pid in workers):
            return workers
        time.sleep(0.1)
    raise AssertionError(f"expected {count} workers, found {workers}")


def keep_alive_client(port: int) -> socket.socket:
    return socket.create_connection(("127.0.0.1", port), timeout=30)


def all_answered(clients: list[socket.socket]) -> bool:
    """One request on each client, sent before any answer is read (a cheap 404: uvicorn closes
    a keep-alive connection idle for 5 s)."""
    for sock in clients:
        sock.sendall(b"GET /no-such-page HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
    return all(sock.recv(64).startswith(b"HTTP/1.1 404") for sock in clients)


def connections_per_worker(pids: list[int], port: int) -> dict[int, int]:
    return {
        pid: sum(
            1
            for conn in psutil.Process(pid).net_connections(kind="tcp")
            if conn.status == psutil.CONN_ESTABLISHED and conn.laddr.port == port
        )
        for pid in pids
    }


def test_clients_that_connect_at_once_are_spread_over_the_workers():
    # given the server with 2 workers, both serving
    port = free_port()
    server = start_server(port, workers=2)
    try:
        pids = worker_pids(server, port, 2)
        warm = [keep_alive_client(port) for _ in range(8)]
        assert all_answered(warm)
        for sock in warm:
            sock.close()
        for _ in range(BURSTS):
            # when 40 keep-alive clients connect in one burst, then each asks once
            clients = [keep_alive_client(port) for _ in range(CLIENTS)]
            assert all_answered(clients)
            # then each worker holds a fair share of them (by the kernel's hash: 20 ± a few;
            # with one shared socket, the worker that woke first often took nearly all)
            held = connections_per_worker(pids, port)
            assert sum(held.values()) == CLIENTS
            assert min(held.values()) >= CLIENTS // 5, held
            for sock in clients:
                sock.close()
    finally:
        stop_server(server)


def test_a_killed_worker_is_replaced_and_the_port_keeps_answering():
    # given the server with 2 workers
    port = free_port()
    server = start_server(port, workers=2)
    try:
        pids = worker_pids(server, port, 2)
        # when one worker is killed
        os.kill(pids[0], signal.SIGKILL)
        # then the supervisor starts another in its place, with its own socket
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            current = worker_pids(server, port, 2)
            if pids[0] not in current:
                break
            time.sleep(0.2)
        assert pids[0] not in current and pids[1] in current
        # and every new client is answered, on either worker
        clients = [keep_alive_client(port) for _ in range(CLIENTS)]
        assert all_answered(clients)
        held = connections_per_worker(current, port)
        assert min(held.values()) > 0, held
        for sock in clients:
            sock.close()
    finally:
        stop_server(server)


def test_a_port_already_taken_is_a_clear_error():
    # given a port some other program listens on
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        # when the server is started on it
        result = subprocess.run(
            [sys.executable, "-m", "config.serve", "--port", str(port), "--workers", "2"],
            cwd=BASE_DIR,
            env=child_env(),
            capture_output=True,
            text=True,
            timeout=60,
        )
    # then it stops at once and says why
    assert result.returncode == 1
    assert f"cannot listen on 127.0.0.1:{port}" in result.stderr


def test_a_web_process_keeps_its_startup_heap_out_of_full_collections():
    # given the web application imported as a worker imports it, and jieba's dictionary loaded
    script = (
        "import gc, time, config.asgi\n"
        "deadline = time.monotonic() + 30\n"
        "import jieba\n"
        "while not jieba.dt.initialized and time.monotonic() < deadline: time.sleep(0.1)\n"
        "time.sleep(0.5)\n"
        "t = time.perf_counter(); gc.collect(); full = time.perf_counter() - t\n"
        "print(gc.get_freeze_count(), len(gc.get_objects()), full)\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", script],
        cwd=BASE_DIR,
        env=child_env(),
        capture_output=True,
        text=True,
        timeout=90,
    )
    frozen, tracked, _seconds = result.stdout.split()
    # then what it built to start (and the dictionary) sits in the permanent generation, and
    # a full collection walks only what came after
    assert int(frozen) > 50_000, result.stderr[-2000:]
    assert int(tracked) < int(frozen) // 5
