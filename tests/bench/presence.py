"""Presence: Redis commands per heartbeat, and "lawyers online" per region with 10,000 lawyers
present, through marketplace.presence itself, beside ZADD and pipelined ZADD+ZCOUNT round
trips measured on the same Redis."""

from __future__ import annotations

import asyncio
import random
import time

from tests.bench.loadgen import percentile
from tests.bench.references import References
from tests.bench.report import Report, Row, Target
from tests.bench.stack import Stack

SECTION = "presence"


def command_stats(client) -> tuple[int, dict[str, int]]:
    info = client.info("all")
    calls = {
        name.removeprefix("cmdstat_"): int(value["calls"])
        for name, value in info.items()
        if name.startswith("cmdstat_")
    }
    return int(info["total_commands_processed"]), calls


def run(stack: Stack, report: Report, refs: References, profile: dict) -> None:
    try:
        from marketplace import presence
        from marketplace.models import Region
    except ImportError as exc:
        for figure in ("Redis commands per heartbeat", '"lawyers online" per region p99'):
            report.missing(SECTION, figure, f"feature missing: {exc}")
        return

    from config.redis_connections import get_redis, reset_clients

    reset_clients()
    redis = get_redis()
    cities = list(Region.objects.filter(level=Region.Level.CITY).values_list("code", "parent_id"))
    rng = random.Random(7)
    lawyers = profile["presence_lawyers"]
    homes = {
        lawyer_id: presence.Home(city=city, province=province)
        for lawyer_id, (city, province) in zip(
            range(1_000_001, 1_000_001 + lawyers),
            (rng.choice(cities) for _ in range(lawyers)),
            strict=True,
        )
    }

    async def heartbeat_all() -> list[float]:
        latencies = []
        for lawyer_id, home in homes.items():
            started = time.perf_counter()
            await presence.heartbeat(lawyer_id, home=home, status="online")
            latencies.append((time.perf_counter() - started) * 1000)
        return latencies

    # first beat of each lawyer (joins the sets), then the steady-state beat being measured
    asyncio.run(heartbeat_all())
    before_total, before_calls = command_stats(redis)
    latencies = asyncio.run(heartbeat_all())
    after_total, after_calls = command_stats(redis)
    everything = (after_total - before_total - 1) / lawyers  # -1: the INFO call itself
    breakdown = {
        name: round((after_calls.get(name, 0) - before_calls.get(name, 0)) / lawyers, 2)
        for name in after_calls
        if after_calls.get(name, 0) - before_calls.get(name, 0) >= lawyers // 2
    }
    breakdown.pop("info", None)
    # what every beat sends (connection setup such as CLIENT SETINFO is not per beat)
    per_beat = sum(breakdown.values())
    report.add(
        Row(
            SECTION,
            f"Redis commands per heartbeat ({lawyers:,} lawyers)",
            per_beat,
            "cmds",
            targets=[Target("<=", 3)],
            note="one pipelined round trip; commands: "
            + ", ".join(f"{k} {v:g}" for k, v in sorted(breakdown.items()))
            + f" ({everything:.4f} per beat counting connection setup)",
            detail={"breakdown": breakdown},
        )
    )
    report.add(
        Row(
            SECTION,
            "heartbeat p99 (steady state)",
            percentile(latencies, 99),
            "ms",
            reference="redis PUBLISH→SUBSCRIBE p99",
            reference_value=refs.pubsub_p99_ms,
            reference_unit="ms",
            note=f"p50 {percentile(latencies, 50):.3f} ms",
        )
    )

    # "lawyers online" per region: one city, one province, the nation, sampled at random
    regions = [c for c, _ in cities] + sorted({p for _, p in cities}) + [presence.NATION]
    samples = profile["presence_samples"]
    count_latencies = []
    for _ in range(samples):
        code = rng.choice(regions)
        started = time.perf_counter()
        presence.online_counts([code])
        count_latencies.append((time.perf_counter() - started) * 1000)
    reference = []
    for _ in range(min(samples, 2000)):
        code = rng.choice(regions)
        started = time.perf_counter()
        pipe = redis.pipeline(transaction=False)
        pipe.zadd("bench:ref:z", {"1": time.time()})
        pipe.zcount(presence.region_set(code), 0, "+inf")
        pipe.execute()
        reference.append((time.perf_counter() - started) * 1000)
    redis.delete("bench:ref:z")
    total = presence.lawyers_online()
    report.add(
        Row(
            SECTION,
            f'"lawyers online" per region p99 ({total:,} online)',
            percentile(count_latencies, 99),
            "ms",
            reference="ZADD+ZCOUNT pipeline p99",
            reference_value=percentile(reference, 99),
            reference_unit="ms",
            targets=[Target("<=", 1.0)],
            note=f"p50 {percentile(count_latencies, 50):.3f} ms; reference p50 "
            f"{percentile(reference, 50):.3f} ms",
        )
    )
    dashboard = []
    for _ in range(min(samples, 1000)):
        started = time.perf_counter()
        presence.online_by_region()
        dashboard.append((time.perf_counter() - started) * 1000)
    report.add(
        Row(
            SECTION,
            "dashboard online-by-region map p99",
            percentile(dashboard, 99),
            "ms",
            note=f"p50 {percentile(dashboard, 50):.3f} ms; every province and city, one round trip",
        )
    )
    # leave nobody online for the next sections
    reset_clients()
    stack.flush_redis()
