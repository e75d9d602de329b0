"""Scale-out on one machine: the chat load over 2 then 3 web processes (each pair of users split
across processes, so every message crosses processes through Redis) and the matching load with
2 Celery workers over 2 then 3 web processes. On 2 cores the question is whether throughput
grows until the cores are full, and that nothing is lost or slowed by crossing processes.

Part of the full profile (BENCH=full): it starts several server sets one after the other."""

from __future__ import annotations

import asyncio
import os

from tests.bench import world
from tests.bench.chat import ChatLoad, build_pairs, feature_missing
from tests.bench.loadgen import percentile
from tests.bench.references import References
from tests.bench.report import Report, Row
from tests.bench.stack import Stack
from tests.bench.wsclients import create_users, issue_tokens

SECTION = "scaleout"
# more clients than the chat section's 1,000: the per-user limit (20 messages per 10 s) caps
# 1,000 clients at 2,000 msg/s, below what 2 cores carry now
STEPS = (600, 1200, 1800, 2400, 3000, 3600)


def chat_capacity(stack: Stack, pairs, web_count: int, step_seconds: float) -> dict:
    webs = [stack.web(workers=1, name=f"scale-web{i}") for i in range(web_count)]
    load = ChatLoad(pairs, [w.port for w in webs])

    async def scenario() -> dict:
        failures, _ = await load.connect()
        await asyncio.sleep(1.0)
        await load.send_at_rate(100, 2)
        steps = []
        for rate in STEPS:
            cpu_before = sum(w.cpu_seconds() for w in webs)
            step = await load.send_at_rate(rate, step_seconds)
            cpu = sum(w.cpu_seconds() for w in webs) - cpu_before
            lat = step.latencies()
            delivered = len(step.delivered)
            steps.append(
                {
                    "offered": rate,
                    "sent": len(step.sent_at),
                    "delivered": delivered,
                    "delivered_per_s": step.throughput(),
                    "p50_ms": percentile(lat, 50),
                    "p99_ms": percentile(lat, 99),
                    "errors": dict(step.errors),
                    "web_cpu_cores": cpu / step_seconds,
                    "sustained": delivered >= 0.99 * len(step.sent_at)
                    and not step.errors
                    and (percentile(lat, 99) or 1e9) <= 250,
                }
            )
            if not steps[-1]["sustained"]:
                break
            await asyncio.sleep(1.0)
        await load.close()
        return {"connect_failures": failures, "steps": steps}

    result = asyncio.run(scenario())
    for web in webs:
        stack.stop(web)
    return result


def run(stack: Stack, report: Report, refs: References, profile: dict) -> None:
    if report.profile != "full":
        report.missing(
            SECTION,
            "chat and matching over 2 and 3 web processes",
            "part of the full profile: BENCH=full make bench",
        )
        return
    missing = feature_missing()
    step_seconds = profile["scaleout_seconds"] / 2
    if missing:
        report.missing(SECTION, "chat over 2 and 3 web processes", missing)
    else:
        pairs = build_pairs(profile["scaleout_clients"] // 2)
        for web_count in (2, 3):
            result = chat_capacity(stack, pairs, web_count, step_seconds)
            sustained = [s for s in result["steps"] if s["sustained"]]
            best = sustained[-1] if sustained else None
            peak = max(result["steps"], key=lambda s: s["delivered_per_s"])
            report.add(
                Row(
                    SECTION,
                    f"chat delivered msg/s, {web_count} web processes",
                    peak["delivered_per_s"],
                    "msg/s",
                    note=(
                        f"sustained up to {best['offered']}/s (p99 {best['p99_ms']:.1f} ms); "
                        if best
                        else "not sustained at any step; "
                    )
                    + f"web CPU {peak['web_cpu_cores']:.2f} cores at the peak; "
                    + f"{os.cpu_count()} cores; steps "
                    + ", ".join(
                        f"{s['offered']}:{'ok' if s['sustained'] else 'x'}" for s in result["steps"]
                    ),
                    detail=result,
                )
            )

    from tests.bench.matching import feature_missing as matching_missing
    from tests.bench.matching import offer_scenario

    missing = matching_missing()
    if missing:
        report.missing(SECTION, "matching with 2 Celery workers", missing)
        return
    lawyer_ids = world.lawyers(profile["offer_lawyers"])
    rate, seconds = profile["offer_rate"], profile["scaleout_seconds"]
    for web_count in (2, 3):
        askers = create_users(f"benchscale{web_count}asker", int(rate * seconds) + 20, "asker")
        questions = world.questions(askers)
        tokens = issue_tokens(lawyer_ids + askers)
        results = offer_scenario(
            stack,
            lawyer_ids=lawyer_ids,
            asker_ids=askers,
            question_ids=questions,
            tokens=tokens,
            rate=rate,
            seconds=seconds,
            web_count=web_count,
            worker_count=2,
        )
        lat = results["latencies"]
        report.add(
            Row(
                SECTION,
                f"post → offer.new p50, {web_count} web processes + 2 workers",
                percentile(lat, 50),
                "ms",
                note=f"p99 {percentile(lat, 99) or 0:.0f} ms; {len(lat)}/{len(results['posted'])} "
                f"offered; CPU per consult {results['cpu'] * 1000 / max(1, len(results['posted'])):.0f} ms",
                detail={k: results[k] for k in ("online", "drain_seconds", "socket_errors")},
            )
        )
