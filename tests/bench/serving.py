"""How pages are served, measured under load: the same page through the Procfile's web line
with pages on Django's WSGI handler (a2wsgi, the default) and on Django's ASGI handler
(HTTP_SERVING=asgi), and under a real WSGI server (gunicorn) for comparison. Server CPU per
request is the figure that decides: it is what two cores have to share."""

from __future__ import annotations

import asyncio
import json
import threading
import time

from tests.bench.loadgen import http_load, percentile
from tests.bench.references import References
from tests.bench.report import Report, Row, Target
from tests.bench.stack import Stack

SECTION = "serving"


def measure(stack: Stack, proc, path: str, seconds: float, token: str | None = None) -> tuple:
    """Page load from 50 connections; with a token, a socket on the same server pings every
    20 ms meanwhile: what serving pages does to socket latency in the same process."""
    url = f"http://127.0.0.1:{proc.port}{path}"
    http_load(url, connections=10, seconds=1)  # warm: imports, templates, pool connections
    cpu_before = proc.cpu_seconds()
    holder: dict = {}
    loader = threading.Thread(
        target=lambda: holder.setdefault("r", http_load(url, connections=50, seconds=seconds))
    )
    loader.start()
    pings = asyncio.run(ping_while(proc.port, token, loader)) if token else []
    loader.join()
    result = holder["r"]
    if result.failed:
        raise RuntimeError(f"{path} answered {result.errors + result.non_2xx} errors under load")
    cpu_ms = (proc.cpu_seconds() - cpu_before) * 1000 / max(1, result.requests)
    return result, cpu_ms, pings


async def ping_while(port: int, token: str, loader: threading.Thread) -> list[float]:
    from websockets.asyncio.client import connect

    latencies: list[float] = []
    async with connect(
        f"ws://127.0.0.1:{port}/ws/",
        origin="http://127.0.0.1",
        additional_headers={"Authorization": f"Bearer {token}"},
    ) as sock:
        while loader.is_alive():
            started = time.perf_counter()
            await sock.send('{"type":"ping"}')
            while True:
                frame = json.loads(await sock.recv())
                if frame.get("type") == "pong":
                    break
            latencies.append((time.perf_counter() - started) * 1000)
            await asyncio.sleep(0.02)
    return latencies


def served_page() -> tuple[str | None, str]:
    """The home page when it renders; else a JSON API list (a request that reaches the
    database), so a page broken in the working tree never passes for a fast one."""
    from django.test import Client

    client = Client(HTTP_HOST="127.0.0.1", raise_request_exception=False)
    for path, label in (("/", "home page"), ("/api/v1/categories", "GET /api/v1/categories")):
        if client.get(path).status_code == 200:
            return path, label
    return None, ""


def run(stack: Stack, report: Report, refs: References, profile: dict) -> None:
    seconds = profile["http_seconds"]
    path, page = served_page()
    if path is None:
        report.missing(SECTION, "pages both ways", "neither / nor /api/v1/categories answers 200")
        return
    arrangements = [
        ("pages on WSGI via a2wsgi (Procfile default)", "wsgi"),
        ("pages on Django's ASGI handler", "asgi"),
    ]
    from tests.bench.wsclients import create_users, issue_tokens

    user = create_users("benchserving", 1, "asker")[0]
    token = issue_tokens([user])[user]
    results = {}
    for label, mode in arrangements:
        proc = stack.web(workers=2, name=f"serving-{mode}", HTTP_SERVING=mode)
        result, cpu_ms, pings = measure(stack, proc, path, seconds, token)
        stack.stop(proc)
        results[mode] = (result, cpu_ms)
        report.add(
            Row(
                SECTION,
                f"{page}, {label}, 2 workers",
                result.rps,
                "req/s",
                reference="Django hello, WSGI (gunicorn)",
                reference_value=refs.hello_wsgi_rps,
                reference_unit="req/s",
                note=f"p50 {result.p50_ms:.1f} ms, p99 {result.p99_ms:.1f} ms, "
                f"server CPU {cpu_ms:.2f} ms/request, errors {result.errors + result.non_2xx}",
                detail=result.__dict__ | {"server_cpu_ms_per_request": cpu_ms},
            )
        )
        report.add(
            Row(
                SECTION,
                f"socket ping p99 during that page load ({mode})",
                percentile(pings, 99),
                "ms",
                reference="bare WebSocket echo p99",
                reference_value=refs.echo_p99_ms,
                reference_unit="ms",
                note=f"p50 {percentile(pings, 50) or 0:.2f} ms over {len(pings)} pings",
            )
        )

    for threads in (2, 4, 8, 16):
        proc = stack.web(workers=2, name=f"serving-t{threads}", HTTP_WSGI_THREADS=str(threads))
        result, cpu_ms, pings = measure(stack, proc, path, seconds, token)
        stack.stop(proc)
        results[f"wsgi-{threads}-threads"] = (result, cpu_ms)
        report.add(
            Row(
                SECTION,
                f"{page}, a2wsgi with {threads} threads per worker",
                result.rps,
                "req/s",
                note=f"p99 {result.p99_ms:.1f} ms, CPU {cpu_ms:.2f} ms/request; socket ping "
                f"p50 {percentile(pings, 50) or 0:.2f} ms, p99 {percentile(pings, 99) or 0:.2f} ms",
            )
        )

    for switch_ms in ("5", "1"):  # CPython's default, and config/asgi.py's
        proc = stack.web(
            workers=2, name=f"serving-gil{switch_ms}", WEB_GIL_SWITCH_INTERVAL_MS=switch_ms
        )
        result, cpu_ms, pings = measure(stack, proc, path, seconds, token)
        stack.stop(proc)
        results[f"wsgi-switch-{switch_ms}ms"] = (result, cpu_ms)
        report.add(
            Row(
                SECTION,
                f"socket ping p99 during page load, GIL switch interval {switch_ms} ms",
                percentile(pings, 99),
                "ms",
                note=f"p50 {percentile(pings, 50) or 0:.2f} ms; pages {result.rps:.0f} req/s, "
                f"CPU {cpu_ms:.2f} ms/request",
            )
        )

    proc = stack.gunicorn("config.wsgi:application", workers=2, name="serving-gunicorn")
    result, cpu_ms, _ = measure(stack, proc, path, seconds)
    stack.stop(proc)
    results["gunicorn"] = (result, cpu_ms)
    report.add(
        Row(
            SECTION,
            f"{page}, gunicorn 2 sync workers (WSGI only, no sockets)",
            result.rps,
            "req/s",
            note=f"p50 {result.p50_ms:.1f} ms, p99 {result.p99_ms:.1f} ms, "
            f"server CPU {cpu_ms:.2f} ms/request",
            detail=result.__dict__ | {"server_cpu_ms_per_request": cpu_ms},
        )
    )
    wsgi, asgi = results["wsgi"], results["asgi"]
    report.add(
        Row(
            SECTION,
            f"{page} req/s: a2wsgi over Django ASGI handler",
            wsgi[0].rps / asgi[0].rps if asgi[0].rps else None,
            "x",
            targets=[Target(">=", 1.0)],
            note=f"server CPU per request {wsgi[1]:.2f} ms vs {asgi[1]:.2f} ms",
        )
    )
    report.extra["serving"] = {
        mode: {"rps": r.rps, "p50_ms": r.p50_ms, "p99_ms": r.p99_ms, "cpu_ms": cpu}
        for mode, (r, cpu) in results.items()
    }
