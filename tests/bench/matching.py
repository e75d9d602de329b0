"""Post → `offer.new`: askers open free consults (`POST /api/v1/consults`) at 20/s while 1,000
lawyers are online over 2 web processes (sockets that sent `presence`); the figure is the time
from the POST leaving the client to the first `offer.new` for that consult arriving on a
lawyer's socket, through the matching task on a Celery worker. Beside a Celery no-op round
trip and a Redis pub/sub round trip of the same run."""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import tempfile
import time
from collections import Counter
from pathlib import Path

from tests.bench import profiling, world
from tests.bench.loadgen import RawHttpClient, percentile
from tests.bench.references import References
from tests.bench.report import Report, Row, Target
from tests.bench.stack import Stack
from tests.bench.wsclients import Client, close_all, connect_all, create_users, issue_tokens

SECTION = "matching"


def feature_missing() -> str | None:
    try:
        from accounts.frames import FRAME_HANDLERS
        from marketplace import matching, presence, tasks  # noqa: F401
    except ImportError as exc:
        return f"feature missing: {exc}"
    if "presence" not in FRAME_HANDLERS:
        return "feature missing: no presence frame handler"
    return None


class OfferWatch:
    def __init__(self) -> None:
        self.first_offer: dict[int, float] = {}
        self.offers = 0
        self.errors: Counter = Counter()

    def on_frame(self, client: Client, frame: dict, now: float) -> None:
        kind = frame.get("type")
        if kind == "offer.new":
            self.offers += 1
            consult = frame.get("offer", {}).get("consult")
            if consult is not None:
                self.first_offer.setdefault(consult, now)
        elif kind == "error":
            self.errors[frame.get("code")] += 1


async def post_consults(ports, asker_tokens, question_ids, rate, seconds, results):
    clients = [RawHttpClient("127.0.0.1", port) for port in ports]
    total = min(len(question_ids), int(rate * seconds))
    started = time.perf_counter()

    async def one(n: int) -> None:
        token, question = asker_tokens[n], question_ids[n]
        client = clients[n % len(clients)]
        body = json.dumps({"question": question}).encode()
        headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
        sent = time.perf_counter()
        try:
            status, answer = await client.request(
                "POST", "/api/v1/consults", body=body, headers=headers
            )
        except (OSError, asyncio.IncompleteReadError) as exc:
            results["http_errors"][type(exc).__name__] += 1
            return
        done = time.perf_counter()
        if status != 201:
            results["http_errors"][f"{status} {answer[:80]!r}"] += 1
            return
        results["posted"][json.loads(answer)["id"]] = (sent, done)

    tasks = []
    for n in range(total):
        delay = started + n / rate - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        tasks.append(asyncio.create_task(one(n)))
    await asyncio.gather(*tasks)
    for client in clients:
        await client.aclose()


def run(stack: Stack, report: Report, refs: References, profile: dict) -> None:
    missing = feature_missing()
    targets = [Target("<=", 10.0)], [Target("<=", 50.0)]
    if missing:
        report.missing(SECTION, "post → offer.new p50 at 20 questions/s", missing, targets[0])
        report.missing(SECTION, "post → offer.new p99 at 20 questions/s", missing, targets[1])
        return
    lawyer_count = profile["offer_lawyers"]
    rate, seconds = profile["offer_rate"], profile["offer_seconds"]
    lawyer_ids = world.lawyers(lawyer_count)
    asker_ids = create_users("benchmatchasker", int(rate * seconds) + 20, "asker")
    question_ids = world.questions(asker_ids)
    spare_ids = create_users("benchmatchspare", rate * 5, "asker")  # for a profile on a miss
    spare_questions = world.questions(spare_ids)
    tokens = issue_tokens(lawyer_ids + asker_ids + spare_ids)

    marks_dir = Path(tempfile.mkdtemp(prefix="bench-stage-marks-"))
    results = offer_scenario(
        stack,
        stage_marks_dir=marks_dir,
        lawyer_ids=lawyer_ids,
        asker_ids=asker_ids,
        question_ids=question_ids,
        tokens=tokens,
        rate=rate,
        seconds=seconds,
        spare=(spare_ids, spare_questions),
    )
    stages = stage_medians(read_marks(marks_dir), results["sent_wall"], results["received_wall"])
    shutil.rmtree(marks_dir, ignore_errors=True)
    cpu = results["cpu"]
    posted = results["posted"]
    latencies = results["latencies"]
    post_latencies = results["post_latencies"]
    p50, p99 = percentile(latencies, 50), percentile(latencies, 99)
    note = (
        f"{results['online']:,} lawyers online on 2 web processes, 1 thread-pool worker x2 "
        f"(their match_for_lawyer tasks took {results['drain_seconds']:.1f} s to drain); "
        f"{len(latencies)}/{len(posted)} consults got an offer; the askers' tokens were "
        "marked used just before (a token's first use also writes last_used_at); POST p50 "
        f"{percentile(post_latencies, 50) or 0:.1f} ms; http errors "
        f"{dict(results['http_errors']) or 0}; socket errors {results['socket_errors'] or 0}"
    )
    report.add(
        Row(
            SECTION,
            "post → offer.new p50 at 20 questions/s",
            p50,
            "ms",
            reference="Celery enqueue→start p50",
            reference_value=refs.celery_start_p50_ms,
            reference_unit="ms",
            targets=targets[0],
            note=note,
        )
    )
    if stages:
        report.add(
            Row(
                SECTION,
                "where the p50 goes (ms after the POST left the client)",
                stages.get("received"),
                "ms",
                note="median of each stage over the consults: "
                + ", ".join(f"{STAGE_NAMES[stage]} {at:.1f}" for stage, at in stages.items()),
                detail={"stages_ms": stages},
            )
        )
    report.add(
        Row(
            SECTION,
            "post → offer.new p99 at 20 questions/s",
            p99,
            "ms",
            reference="redis PUBLISH→SUBSCRIBE p99",
            reference_value=refs.pubsub_p99_ms,
            reference_unit="ms",
            targets=targets[1],
            note=f"server+worker CPU per consult {cpu * 1000 / max(1, len(posted)):.1f} ms, "
            f"of which the worker's {results['cpu_worker'] * 1000 / max(1, len(posted)):.1f} ms",
        )
    )
    cpu_per_consult = cpu / max(1, len(posted))
    report.add(
        Row(
            SECTION,
            "consult rate the cores allow (cores ÷ CPU per consult)",
            (os.cpu_count() or 1) / cpu_per_consult if cpu_per_consult else None,
            "consults/s",
            targets=[Target(">=", 20)],
            note=f"web + worker CPU {cpu_per_consult * 1000:.1f} ms per consult (POST, matching "
            "task, offer and consult frames); below the offered 20/s the queue only grows",
        )
    )
    if results.get("profile"):
        print("  profile of post → offer (web processes and the Celery worker's processes):")
        profiling.print_summary(results["profile"])
        report.extra.setdefault("profiles", {})["matching"] = results["profile"]


STAGE_NAMES = {
    "request": "Django has the POST",
    "published": "matching task published",
    "task_start": "task started",
    "task_end": "task done (offers written, frames published)",
    "received": "offer.new at the lawyer",
}


def offer_scenario(
    stack: Stack,
    *,
    lawyer_ids: list[int],
    asker_ids: list[int],
    question_ids: list[int],
    tokens: dict[int, str],
    rate: float,
    seconds: float,
    web_count: int = 2,
    worker_count: int = 1,
    spare: tuple[list[int], list[int]] | None = None,
    stage_marks_dir: Path | None = None,
) -> dict:
    """Lawyers online over `web_count` web processes, consults posted at `rate` for `seconds`,
    matched by `worker_count` Celery workers (2 threads each); first offer per consult.
    `stage_marks_dir`: the servers stamp each consult's stages there (`stage_marks`)."""
    from marketplace import presence

    marks = (
        {
            "DJANGO_SETTINGS_MODULE": "tests.bench.servers.stage_marks",
            "BENCH_STAGE_MARKS": str(stage_marks_dir),
        }
        if stage_marks_dir
        else {}
    )
    lawyer_count = len(lawyer_ids)
    webs = [stack.web(workers=1, name=f"matching-web{i}", **marks) for i in range(web_count)]
    workers = [
        # the Procfile's `matcher`: a thread pool, no hand-off to a pool process
        stack.celery_worker(name=f"matching-worker{i}", concurrency=2, pool="threads", **marks)
        for i in range(worker_count)
    ]
    procs = [*webs, *workers]
    watch = OfferWatch()
    lawyers = []
    for n, uid in enumerate(lawyer_ids):
        client = Client(uid, tokens[uid], f"ws://127.0.0.1:{webs[n % len(webs)].port}/ws/")
        client.on_frame = watch.on_frame
        lawyers.append(client)

    async def scenario() -> dict:
        results: dict = {"posted": {}, "http_errors": Counter()}
        failures, connect_seconds = await connect_all(lawyers)
        results["connect"] = (failures, connect_seconds)
        for client in lawyers:
            if client.sock is not None:
                await client.send({"type": "presence", "status": "online"})
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            online = await asyncio.to_thread(presence.lawyers_online)
            if online >= lawyer_count - failures:
                break
            await asyncio.sleep(0.5)
        results["online"] = online
        # lawyers coming online each queue a match_for_lawyer task: measure once they are done
        results["drain_seconds"] = await asyncio.to_thread(wait_for_empty_queues, 120)
        # warm-up consults (connections, imports in the worker), not measured
        await post_consults(
            [w.port for w in webs],
            [tokens[a] for a in asker_ids[-20:]],
            question_ids[-20:],
            10,
            1,
            {"posted": {}, "http_errors": Counter()},
        )
        await asyncio.to_thread(wait_for_empty_queues, 30)
        # real clients reuse their token; these are fresh, and a token's first use (then one a
        # minute) also writes its last_used_at: mark them used, as a client's earlier request
        # would have, so the figure is the POST of a client that has a token in use
        await asyncio.to_thread(mark_tokens_used, [tokens[a] for a in asker_ids])
        cpu_before = [p.cpu_seconds() for p in procs]
        await post_consults(
            [w.port for w in webs],
            [tokens[a] for a in asker_ids],
            question_ids,
            rate,
            seconds,
            results,
        )
        # until every matching task of these consults has run (bounded)
        await asyncio.to_thread(wait_for_empty_queues, 60)
        used = [p.cpu_seconds() - before for p, before in zip(procs, cpu_before, strict=True)]
        results["cpu"] = sum(used)
        results["cpu_worker"] = sum(used[len(webs) :])
        latencies = [
            (watch.first_offer[cid] - sent) * 1000
            for cid, (sent, _done) in results["posted"].items()
            if cid in watch.first_offer
        ]
        p50, p99 = percentile(latencies, 50) or 1e9, percentile(latencies, 99) or 1e9
        if spare and (p50 > 10 or p99 > 50) and profiling.have_py_spy():
            # where the time goes, with the same lawyers still online
            await asyncio.to_thread(wait_for_empty_queues, 60)
            pids = [p.pid for w in workers for p in w.processes()]
            pids += [p for w in webs for p in profiling.worker_pids(w)]
            handle = await asyncio.to_thread(profiling.start, pids, 6, "matching")
            await post_consults(
                [w.port for w in webs],
                [tokens[a] for a in spare[0]],
                spare[1],
                rate,
                5,
                {"posted": {}, "http_errors": Counter()},
            )
            results["profile"] = await asyncio.to_thread(profiling.finish, handle)
        await close_all(lawyers)
        return results

    results = asyncio.run(scenario())
    for proc in procs:
        stack.stop(proc)
    posted = results["posted"]
    results["latencies"] = [
        (watch.first_offer[cid] - sent) * 1000
        for cid, (sent, _done) in posted.items()
        if cid in watch.first_offer
    ]
    results["post_latencies"] = [(done - sent) * 1000 for sent, done in posted.values()]
    # the client's stamps on the wall clock, as the servers' (one machine, one clock)
    wall = time.time() - time.perf_counter()
    results["sent_wall"] = {cid: sent + wall for cid, (sent, _done) in posted.items()}
    results["received_wall"] = {cid: at + wall for cid, at in watch.first_offer.items()}
    results["socket_errors"] = dict(watch.errors)
    return results


def mark_tokens_used(raw_tokens: list[str]) -> None:
    from django.utils import timezone

    from accounts.models import ApiToken
    from accounts.services import hash_token

    ApiToken.objects.filter(key_hash__in=[hash_token(raw) for raw in raw_tokens]).update(
        last_used_at=timezone.now()
    )


def wait_for_empty_queues(timeout: float) -> float:
    """Seconds until the broker's queues are empty (bounded by `timeout`)."""
    import redis
    from django.conf import settings

    from workers.routing import QUEUES

    client = redis.Redis.from_url(settings.CELERY_BROKER_URL)
    started = time.monotonic()
    try:
        while time.monotonic() - started < timeout:
            if sum(client.llen(q) for q in QUEUES) == 0:
                break
            time.sleep(0.2)
        time.sleep(0.5)  # the last tasks taken finish
    finally:
        client.close()
    return time.monotonic() - started


def read_marks(folder: Path) -> dict[int, dict[str, float]]:
    """{consult id: {stage: earliest wall-clock time}} from every server process's file
    (`tests.bench.servers.stage_marks`)."""
    marks: dict[int, dict[str, float]] = {}
    for path in folder.glob("*.txt"):
        for line in path.read_text().splitlines():
            stage, consult_id, at = line.split()
            stamps = marks.setdefault(int(consult_id), {})
            stamps[stage] = min(float(at), stamps.get(stage, float("inf")))
    return marks


def stage_medians(
    marks: dict[int, dict[str, float]], sent: dict[int, float], received: dict[int, float]
) -> dict[str, float]:
    """Median ms from the POST leaving the client to each stage, over the consults that have
    every stamp (`sent` and `received`: the client's wall-clock stamps per consult)."""
    stages = tuple(STAGE_NAMES)
    offsets: dict[str, list[float]] = {stage: [] for stage in stages}
    for consult_id, start in sent.items():
        stamps = dict(marks.get(consult_id, {}))
        if consult_id in received:
            stamps["received"] = received[consult_id]
        if all(stage in stamps for stage in stages):
            for stage in stages:
                offsets[stage].append((stamps[stage] - start) * 1000)
    # as the p50 row is computed, so the last stage and that row agree over the same consults
    return {
        stage: round(percentile(values, 50) or 0.0, 2)
        for stage, values in offsets.items()
        if values
    }
