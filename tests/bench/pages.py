"""The public question page under load (50 connections through the Procfile's web line, 2
workers): requests/s uncached and cached, and p99 at 60% of the uncached maximum; DB queries
per page. Beside a bare WSGI Django "hello" of the same run.

Uncached: every page or fragment cache the qa app has is switched off through its settings
(any `QA_*CACHE*` setting set to 0). Cached: its defaults. Views are counted either way."""

from __future__ import annotations

from django.conf import settings

from tests.bench.loadgen import http_load
from tests.bench.references import References
from tests.bench.report import Report, Row, Target
from tests.bench.stack import Stack
from tests.bench.wsclients import create_users

SECTION = "pages"
CANDIDATE_URL_NAMES = ("qa:question", "qa:question_detail", "qa:detail", "question_detail")


def question_url(question_id: int) -> str | None:
    from django.test import Client
    from django.urls import NoReverseMatch, reverse

    candidates = []
    for name in CANDIDATE_URL_NAMES:
        try:
            candidates.append(reverse(name, args=[question_id]))
        except NoReverseMatch:
            continue
    candidates.append(f"/questions/{question_id}/")
    client = Client(raise_request_exception=False)
    for url in candidates:
        if client.get(url, HTTP_HOST="127.0.0.1").status_code == 200:
            return url
    return None


def cache_settings() -> list[str]:
    return [name for name in dir(settings) if name.startswith("QA_") and "CACHE" in name]


def queries_for(url: str, *, cached: bool = True) -> int:
    from django.db import connection
    from django.test import Client, override_settings
    from django.test.utils import CaptureQueriesContext

    client = Client()
    with override_settings(**({} if cached else {name: 0 for name in cache_settings()})):
        client.get(url, HTTP_HOST="127.0.0.1")  # warm caches of reference data
        with CaptureQueriesContext(connection) as ctx:
            client.get(url, HTTP_HOST="127.0.0.1")
    return len(ctx.captured_queries)


def public_question() -> int:
    from tests.bench import world

    asker = create_users("benchpageasker", 1, "asker")
    return world.questions(asker)[0]


def measure(stack: Stack, path: str, seconds: float, env: dict[str, str]) -> dict:
    web = stack.web(workers=2, name="pages", **env)
    url = f"http://127.0.0.1:{web.port}{path}"
    http_load(url, connections=10, seconds=1)
    cpu_before = web.cpu_seconds()
    peak = http_load(url, connections=50, seconds=seconds)
    cpu_ms = (web.cpu_seconds() - cpu_before) * 1000 / max(1, peak.requests)
    paced = http_load(url, connections=50, seconds=seconds, rate=0.6 * peak.rps)
    stack.stop(web)
    return {"peak": peak, "paced": paced, "cpu_ms": cpu_ms}


def run(stack: Stack, report: Report, refs: References, profile: dict) -> None:
    seconds = profile["http_seconds"]
    home_queries = queries_for("/")
    report.add(Row(SECTION, "DB queries, home page", home_queries, "queries"))

    question_id = public_question()
    path = question_url(question_id)
    figures = (
        ("question page req/s, uncached", [Target(">=", 1000), Target(">=", 0.30, on="ratio")]),
        ("question page req/s, cached", [Target(">=", 3000)]),
        ("question page p99 at 60% of uncached max", [Target("<", 50)]),
    )
    if path is None:
        for figure, targets in figures:
            report.missing(SECTION, figure, "feature missing: no public question page", targets)
        report.missing(SECTION, "DB queries, question page", "feature missing")
        return
    report.add(
        Row(
            SECTION,
            "DB queries, question page (uncached)",
            queries_for(path, cached=False),
            "queries",
        )
    )
    knobs = cache_settings()
    uncached = measure(stack, path, seconds, {k: "0" for k in knobs})
    if uncached["peak"].failed:
        for figure, targets in figures:
            report.missing(SECTION, figure, f"{path} answered errors under load", targets)
        return
    for figure, targets in figures[:1]:
        r = uncached["peak"]
        report.add(
            Row(
                SECTION,
                figure,
                r.rps,
                "req/s",
                reference="Django hello, WSGI (gunicorn)",
                reference_value=refs.hello_wsgi_rps,
                reference_unit="req/s",
                targets=targets,
                note=f"p99 {r.p99_ms:.1f} ms at max; server CPU {uncached['cpu_ms']:.2f} "
                f"ms/request; errors {r.errors + r.non_2xx}; cache settings off: "
                f"{', '.join(knobs) or 'none found'}",
            )
        )
    paced = uncached["paced"]
    report.add(
        Row(
            SECTION,
            figures[2][0],
            paced.p99_ms,
            "ms",
            targets=figures[2][1],
            note=f"offered {0.6 * uncached['peak'].rps:.0f} req/s, got {paced.rps:.0f} req/s; "
            f"p50 {paced.p50_ms:.1f} ms",
        )
    )
    if not knobs:
        report.missing(
            SECTION, figures[1][0], "no QA_*CACHE* setting: page cache missing", figures[1][1]
        )
        return
    cached = measure(stack, path, seconds, {})
    r = cached["peak"]
    report.add(
        Row(
            SECTION,
            figures[1][0],
            r.rps,
            "req/s",
            reference="Django hello, WSGI (gunicorn)",
            reference_value=refs.hello_wsgi_rps,
            reference_unit="req/s",
            targets=figures[1][1],
            note=f"p99 {r.p99_ms:.1f} ms; server CPU {cached['cpu_ms']:.2f} ms/request",
        )
    )
