"""`make bench`: every hot path measured beside its physical reference, on this machine.

    python -m tests.bench.run                  # quick profile (a few minutes)
    python -m tests.bench.run --profile full   # the long one (BENCH=full make bench)
    python -m tests.bench.run --only references,serving

Starts what it needs (embedded PostgreSQL and Redis unless DATABASE_URL / REDIS_URL are set;
then a database `lawline_bench` and Redis databases of its own), sends traffic only to
loopback, bounds every loop in count and time, prints one table and writes it as JSON under
`.bench/` (git-ignored) so runs can be compared.
"""

from __future__ import annotations

import argparse
import importlib
import logging
import os
import sys
import time
import traceback
from contextlib import ExitStack
from pathlib import Path

from tests.bench.report import Report
from tests.bench.stack import BASE_DIR, Stack

PROFILES: dict[str, dict] = {
    "quick": {
        "redis_requests": 100_000,
        "rtt_samples": 2_000,
        "ws_seconds": 3.0,
        "http_seconds": 5.0,
        "pgbench_seconds": 5,
        "sql_samples": 500,
        "celery_samples": 200,
        "presence_lawyers": 10_000,
        "presence_samples": 5_000,
        "chat_clients": 1_000,
        "chat_rate": 200,
        "chat_seconds": 10.0,
        "chat_max_seconds": 6.0,
        "offer_lawyers": 1_000,
        "offer_rate": 20,
        "offer_seconds": 10.0,
        "queue_consults": 10_000,
        "queue_samples": 300,
        "memory_connections": 3_000,
        "scaleout_clients": 3_000,
        "scaleout_seconds": 6.0,
    },
    "full": {
        "redis_requests": 1_000_000,
        "rtt_samples": 10_000,
        "ws_seconds": 10.0,
        "http_seconds": 20.0,
        "pgbench_seconds": 20,
        "sql_samples": 3_000,
        "celery_samples": 1_000,
        "presence_lawyers": 10_000,
        "presence_samples": 20_000,
        "chat_clients": 1_000,
        "chat_rate": 200,
        "chat_seconds": 60.0,
        "chat_max_seconds": 20.0,
        "offer_lawyers": 1_000,
        "offer_rate": 20,
        "offer_seconds": 60.0,
        "queue_consults": 10_000,
        "queue_samples": 2_000,
        "memory_connections": 10_000,
        "scaleout_clients": 3_000,
        "scaleout_seconds": 20.0,
    },
}

SECTIONS = (
    "references",
    "serving",
    "presence",
    "chat",
    "matching",
    "pages",
    "queue",
    "memory",
    "scaleout",
)


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--profile", choices=sorted(PROFILES), default="quick")
    parser.add_argument(
        "--only", default="", help="comma-separated sections: " + ",".join(SECTIONS)
    )
    parser.add_argument("--skip", default="", help="comma-separated sections to leave out")
    args = parser.parse_args(argv)
    only = [s for s in args.only.split(",") if s] or list(SECTIONS)
    skip = {s for s in args.skip.split(",") if s}
    unknown = set(only) - set(SECTIONS)
    if unknown:
        parser.error(f"unknown sections: {', '.join(sorted(unknown))}")
    profile = dict(PROFILES[args.profile])
    logging.getLogger("httpx").setLevel(logging.WARNING)  # one line per request otherwise
    report = Report(args.profile)
    report.environment["profile"] = profile

    from tests.bench.references import References

    refs = References()
    os.chdir(BASE_DIR)
    with ExitStack() as exit_stack:
        stack = Stack(exit_stack)
        print(f"bench: profile {args.profile}; starting services", flush=True)
        stack.start_services()
        stack.migrate()
        stack.django_setup()
        stack.flush_redis()
        for name in only:
            if name in skip:
                continue
            load_before = os.getloadavg()[0]
            print(
                f"\n== {name} (load average {load_before:.1f} on {os.cpu_count()} cores)",
                flush=True,
            )
            started = time.monotonic()
            module = importlib.import_module(f"tests.bench.{name}")
            try:
                module.run(stack, report, refs, profile)
            except KeyboardInterrupt:
                raise
            except Exception as exc:  # one broken section must not hide the others
                traceback.print_exc()
                report.missing(name, f"{name} section", f"failed: {type(exc).__name__}: {exc}")
            finally:
                for proc in list(stack.procs):
                    stack.stop(proc)
            report.sections_seconds[name] = round(time.monotonic() - started, 1)
            report.sections_load[name] = (round(load_before, 1), round(os.getloadavg()[0], 1))

    print("\n" + report.table())
    path = report.write_json(Path(BASE_DIR) / ".bench")
    print(f"\nwritten: {path.relative_to(BASE_DIR)}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
