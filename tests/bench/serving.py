"""How pages are served, measured under load: the same page through the Procfile's web line
with pages on Django's WSGI handler (a2wsgi, the default) and on Django's ASGI handler
(HTTP_SERVING=asgi), and under a real WSGI server (gunicorn) for comparison. Server CPU per
request is the figure that decides: it is what two cores have to share."""

from __future__ import annotations

from tests.bench.loadgen import http_load
from tests.bench.references import References
from tests.bench.report import Report, Row, Target
from tests.bench.stack import Stack

SECTION = "serving"


def measure(stack: Stack, proc, path: str, seconds: float) -> tuple:
    url = f"http://127.0.0.1:{proc.port}{path}"
    http_load(url, connections=10, seconds=1)  # warm: imports, templates, pool connections
    cpu_before = proc.cpu_seconds()
    result = http_load(url, connections=50, seconds=seconds)
    cpu_ms = (proc.cpu_seconds() - cpu_before) * 1000 / max(1, result.requests)
    return result, cpu_ms


def run(stack: Stack, report: Report, refs: References, profile: dict) -> None:
    seconds = profile["http_seconds"]
    path = "/"
    arrangements = [
        ("pages on WSGI via a2wsgi (Procfile default)", "wsgi"),
        ("pages on Django's ASGI handler", "asgi"),
    ]
    results = {}
    for label, mode in arrangements:
        proc = stack.web(workers=2, name=f"serving-{mode}", HTTP_SERVING=mode)
        result, cpu_ms = measure(stack, proc, path, seconds)
        stack.stop(proc)
        results[mode] = (result, cpu_ms)
        report.add(
            Row(
                SECTION,
                f"home page, {label}, 2 workers",
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

    proc = stack.gunicorn("config.wsgi:application", workers=2, name="serving-gunicorn")
    result, cpu_ms = measure(stack, proc, path, seconds)
    stack.stop(proc)
    results["gunicorn"] = (result, cpu_ms)
    report.add(
        Row(
            SECTION,
            "home page, gunicorn 2 sync workers (WSGI only, no sockets)",
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
            "home page req/s: a2wsgi over Django ASGI handler",
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
