"""The lawyer queue: `GET /api/v1/lawyer/queue` p99 with 10,000 waiting consults (queued or
offered, three live offers each, across 1,000 lawyers; the measured lawyer holds 20 of them),
through the web server one request at a time, beside an indexed PostgreSQL SELECT."""

from __future__ import annotations

import random
import time
from datetime import timedelta

from tests.bench import world
from tests.bench.loadgen import percentile
from tests.bench.references import References
from tests.bench.report import Report, Row, Target
from tests.bench.stack import Stack
from tests.bench.wsclients import create_users, issue_tokens

SECTION = "queue"


def waiting_consults(count: int, lawyer_ids: list[int], measured: int) -> None:
    from django.utils import timezone

    from marketplace.models import Consult, Offer

    rng = random.Random(3)
    askers = create_users("benchqueueasker", max(1, count // 10), "asker")
    question_ids = world.questions([askers[n % len(askers)] for n in range(count)])
    now = timezone.now()
    consults = Consult.objects.bulk_create(
        [
            Consult(
                question_id=qid,
                asker_id=askers[n % len(askers)],
                state=Consult.State.OFFERED if n % 4 else Consult.State.QUEUED,
                queued_at=now - timedelta(seconds=n % 600),
                first_offered_at=now if n % 4 else None,
                sla_deadline=now + timedelta(minutes=15),
            )
            for n, qid in enumerate(question_ids)
        ],
        batch_size=2000,
    )
    offers = []
    others = [uid for uid in lawyer_ids if uid != measured]
    mine = 0
    for n, consult in enumerate(consults):
        if consult.state != Consult.State.OFFERED:
            continue
        chosen = rng.sample(others, 3)
        if mine < 20 and n % 97 == 1:
            chosen[0] = measured
            mine += 1
        for lawyer in chosen:
            offers.append(
                Offer(
                    consult=consult,
                    lawyer_id=lawyer,
                    scope=Consult.Scope.CITY,
                    expires_at=now + timedelta(minutes=30),
                )
            )
    Offer.objects.bulk_create(offers, batch_size=5000)


def run(stack: Stack, report: Report, refs: References, profile: dict) -> None:
    try:
        from marketplace.models import Consult, Offer  # noqa: F401
        from marketplace.selectors import lawyer_live_offers  # noqa: F401
    except ImportError as exc:
        report.missing(SECTION, "lawyer queue fetch p99", f"feature missing: {exc}")
        return
    import httpx
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    count = profile["queue_consults"]
    lawyer_ids = world.lawyers(1000)
    measured = lawyer_ids[0]
    waiting_consults(count, lawyer_ids, measured)
    token = issue_tokens([measured])[measured]
    headers = {"Authorization": f"Bearer {token}"}

    client = Client(HTTP_HOST="127.0.0.1")
    client.get("/api/v1/lawyer/queue", HTTP_AUTHORIZATION=headers["Authorization"])
    with CaptureQueriesContext(connection) as ctx:
        response = client.get("/api/v1/lawyer/queue", HTTP_AUTHORIZATION=headers["Authorization"])
    if response.status_code != 200:
        report.missing(SECTION, "lawyer queue fetch p99", f"GET answered {response.status_code}")
        return
    items = len(response.json())

    web = stack.web(workers=2, name="queue")
    latencies = []
    failures: dict[int, int] = {}
    with httpx.Client(base_url=f"http://127.0.0.1:{web.port}/api/v1", headers=headers) as http:
        for _ in range(20):
            http.get("/lawyer/queue")
        deadline = time.monotonic() + 60
        for _ in range(profile["queue_samples"]):
            if time.monotonic() > deadline:
                break
            started = time.perf_counter()
            answer = http.get("/lawyer/queue")
            latencies.append((time.perf_counter() - started) * 1000)
            if answer.status_code != 200:
                failures[answer.status_code] = failures.get(answer.status_code, 0) + 1
    stack.stop(web)
    if failures:
        report.missing(SECTION, "lawyer queue fetch p99", f"the API answered {failures}")
        return
    report.add(
        Row(
            SECTION,
            f"lawyer queue fetch p99 ({count:,} waiting consults)",
            percentile(latencies, 99),
            "ms",
            reference="PostgreSQL indexed SELECT p50",
            reference_value=refs.select_p50_ms,
            reference_unit="ms",
            targets=[Target("<=", 10.0)],
            note=f"p50 {percentile(latencies, 50):.2f} ms; {items} offers in the queue; "
            f"{len(ctx.captured_queries)} DB queries per fetch (token auth included)",
        )
    )
