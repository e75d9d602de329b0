"""Where the time goes: py-spy samples a server process while a load runs, and the collapsed
stacks are summarised as the functions holding the most samples (inclusive), with the project's
own frames marked. Used when a figure misses its target, and by hand:

    python -m tests.bench.profiling /                        # a page under wrk load
    python -m tests.bench.profiling /questions/{question}/   # a public question page
    python -m tests.bench.profiling /questions/{question}/ --uncached   # without page caches
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path

from tests.bench.stack import BASE_DIR, Proc

PROJECT_PACKAGES = ("accounts/", "marketplace/", "messaging/", "billing/", "qa/", "config/")


def have_py_spy() -> bool:
    return shutil.which("py-spy") is not None or (Path(sys.executable).parent / "py-spy").exists()


def py_spy() -> str:
    local = Path(sys.executable).parent / "py-spy"
    return str(local) if local.exists() else "py-spy"


def start(pids: list[int], seconds: float, name: str) -> dict:
    """Start sampling `pids` for `seconds` (py-spy, only threads holding the GIL: CPU time)."""
    out_dir = BASE_DIR / ".bench" / "profiles"
    out_dir.mkdir(parents=True, exist_ok=True)
    stamp = time.strftime("%Y%m%dT%H%M%S")
    files, procs = [], []
    for pid in pids:
        path = out_dir / f"{name}-{pid}-{stamp}.txt"
        files.append(path)
        procs.append(
            subprocess.Popen(
                [
                    py_spy(),
                    "record",
                    "--pid",
                    str(pid),
                    "--duration",
                    str(int(seconds)),
                    "--rate",
                    "200",
                    "--gil",
                    "--format",
                    "raw",
                    "--output",
                    str(path),
                    "--nonblocking",
                ],
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
        )
    time.sleep(0.5)
    return {"files": files, "procs": procs, "seconds": seconds}


def finish(handle: dict) -> dict:
    for proc in handle["procs"]:
        try:
            proc.wait(timeout=handle["seconds"] + 20)
        except subprocess.TimeoutExpired:
            proc.kill()
    stacks: Counter[str] = Counter()
    for path in handle["files"]:
        if path.exists():
            for line in path.read_text(errors="replace").splitlines():
                stack, _, count = line.rpartition(" ")
                if count.isdigit():
                    stacks[stack] += int(count)
    return summarise(stacks) | {"files": [str(f.relative_to(BASE_DIR)) for f in handle["files"]]}


def record(pids: list[int], seconds: float, load: Callable[[], object], name: str) -> dict:
    """Sample `pids` while the blocking `load()` runs; summary + raw stacks in .bench/profiles/."""
    handle = start(pids, seconds, name)
    worker = threading.Thread(target=load)
    worker.start()
    worker.join()
    return finish(handle)


def frame_label(frame: str) -> str:
    # py-spy raw frames look like "function (path/to/file.py:123)"
    name, _, where = frame.partition(" (")
    where = where.rstrip(")")
    path = where.rsplit(":", 1)[0]
    for marker in ("site-packages/", "lib/python3"):
        if marker in path:
            path = path.split(marker, 1)[1]
            break
    else:
        path = path.replace(str(BASE_DIR) + "/", "")
    return f"{name} ({path})"


def summarise(stacks: Counter[str], top: int = 25) -> dict:
    total = sum(stacks.values())
    inclusive: Counter[str] = Counter()
    own: Counter[str] = Counter()
    idle = 0
    for stack, count in stacks.items():
        frames = [frame_label(f) for f in stack.split(";") if f]
        if not frames:
            continue
        leaf = frames[-1]
        if any(w in leaf for w in ("select (", "epoll", "_run_once (asyncio", "wait (threading")):
            idle += count
        own[leaf] += count
        for frame in set(frames):
            inclusive[frame] += count
    return {
        "samples": total,
        "idle_samples": idle,
        "inclusive": [(f, round(100 * c / total, 1)) for f, c in inclusive.most_common(top)]
        if total
        else [],
        "own": [(f, round(100 * c / total, 1)) for f, c in own.most_common(top)] if total else [],
    }


def print_summary(summary: dict, limit: int = 20) -> None:
    print(f"  profile: {summary['samples']} samples ({summary['idle_samples']} idle)")
    print("  most inclusive time:")
    for frame, pct in summary["inclusive"][:limit]:
        mark = "*" if any(p in frame for p in PROJECT_PACKAGES) else " "
        print(f"   {mark}{pct:5.1f}%  {frame}")
    print("  most own time:")
    for frame, pct in summary["own"][:limit]:
        print(f"    {pct:5.1f}%  {frame}")


def worker_pids(proc: Proc) -> list[int]:
    """Several workers are the supervisor's children (spawned, so multiprocessing's resource
    tracker is one too and is left out); a single worker is the process."""
    children = [
        p.pid for p in proc.processes()[1:] if "resource_tracker" not in " ".join(p.cmdline())
    ]
    return children or [proc.pid]


def main(argv: list[str]) -> int:
    from contextlib import ExitStack

    from tests.bench.loadgen import http_load
    from tests.bench.stack import Stack

    uncached = "--uncached" in argv
    argv = [arg for arg in argv if arg != "--uncached"]
    path = argv[0] if argv else "/"
    seconds = float(argv[1]) if len(argv) > 1 else 8.0
    with ExitStack() as exit_stack:
        stack = Stack(exit_stack)
        stack.start_services()
        stack.migrate()
        stack.django_setup()
        if "{question}" in path:
            from tests.bench.pages import public_question

            path = path.replace("{question}", str(public_question()))
        from tests.bench.pages import cache_settings

        # uncached as the pages section measures it: every page and fragment cache off
        cache_env = {name: "0" for name in cache_settings()} if uncached else {}
        web = stack.web(workers=1, name="profile", **cache_env)
        url = f"http://127.0.0.1:{web.port}{path}"
        http_load(url, connections=10, seconds=1)
        result: dict = {}

        def load() -> None:
            result["load"] = http_load(url, connections=50, seconds=seconds - 1)

        summary = record(worker_pids(web), seconds, load, "page")
        print(f"  load: {result['load'].rps:.0f} req/s, p99 {result['load'].p99_ms:.1f} ms")
        print_summary(summary, 30)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
