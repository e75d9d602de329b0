"""HTTP load: Debian's `wrk` when it is installed (C, so the load generator takes little of the
two cores the servers share with it), otherwise a bounded asyncio keep-alive client.

Every run is bounded in time; the target is always a loopback URL."""

from __future__ import annotations

import asyncio
import math
import random
import re
import shutil
import subprocess
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit


def percentile(samples: list[float], p: float) -> float | None:
    if not samples:
        return None
    ordered = sorted(samples)
    rank = max(0, min(len(ordered) - 1, math.ceil(p / 100 * len(ordered)) - 1))
    return ordered[rank]


def assert_loopback(url: str) -> None:
    host = urlsplit(url).hostname or ""
    if not (host.startswith("127.") or host in {"localhost", "::1"}):
        raise ValueError(f"benchmarks send traffic to loopback only, not {host!r}")


@dataclass
class HttpResult:
    rps: float
    p50_ms: float | None
    p99_ms: float | None
    requests: int
    errors: int
    seconds: float
    tool: str
    non_2xx: int = 0
    detail: dict = field(default_factory=dict)

    @property
    def failed(self) -> bool:
        """More than 1% of answers were errors: the figure would measure an error page."""
        return self.errors + self.non_2xx > 0.01 * max(1, self.requests)


UNIT_MS = {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60000.0}


def _ms(text: str) -> float:
    match = re.fullmatch(r"([\d.]+)(us|ms|s|m)", text.strip())
    if not match:
        raise ValueError(text)
    return float(match.group(1)) * UNIT_MS[match.group(2)]


WRK_SCRIPT = """
local headers_line = os.getenv("BENCH_HEADERS") or ""
for pair in string.gmatch(headers_line, "[^\\n]+") do
  local name, value = pair:match("^([^:]+):%s*(.*)$")
  if name then wrk.headers[name] = value end
end
local delay_ms = tonumber(os.getenv("BENCH_DELAY_MS") or "0")
if delay_ms > 0 then
  -- exponential gaps: each connection sends as a Poisson process, so the connections do not
  -- fire in step (a fixed gap sends all of them in one burst per period)
  function setup(thread) math.randomseed(os.time()) end
  function delay() return -math.log(1 - math.random()) * delay_ms end
end
"""


def have_wrk() -> bool:
    return shutil.which("wrk") is not None


def http_load(
    url: str,
    *,
    connections: int = 50,
    seconds: float = 5.0,
    headers: dict[str, str] | None = None,
    rate: float | None = None,
) -> HttpResult:
    """Closed-loop load from `connections` keep-alive connections for `seconds`. With `rate`,
    each connection waits between requests so the total stays near that rate."""
    assert_loopback(url)
    if have_wrk():
        return _wrk(url, connections, seconds, headers or {}, rate)
    return asyncio.run(_python_load(url, connections, seconds, headers or {}, rate))


def _wrk(url, connections, seconds, headers, rate) -> HttpResult:
    import os

    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as script:
        script.write(WRK_SCRIPT)
    env = dict(os.environ)
    env["BENCH_HEADERS"] = "\n".join(f"{k}: {v}" for k, v in headers.items())
    env["BENCH_DELAY_MS"] = str(int(1000 * connections / rate)) if rate else "0"
    try:
        out = subprocess.run(
            [
                "wrk",
                "-t1",
                f"-c{connections}",
                f"-d{max(1, round(seconds))}s",
                "--timeout",
                "5s",
                "--latency",
                "-s",
                script.name,
                url,
            ],
            capture_output=True,
            text=True,
            timeout=seconds + 30,
            env=env,
            check=True,
        ).stdout
    finally:
        Path(script.name).unlink(missing_ok=True)
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    p50 = _ms(re.search(r"\s50%\s+(\S+)", out).group(1))
    p99 = _ms(re.search(r"\s99%\s+(\S+)", out).group(1))
    total = re.search(r"(\d+) requests in ([\d.]+\w+)", out)
    errors = 0
    socket_errors = re.search(
        r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out
    )
    if socket_errors:
        errors = sum(int(g) for g in socket_errors.groups())
    non_2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    return HttpResult(
        rps=rps,
        p50_ms=p50,
        p99_ms=p99,
        requests=int(total.group(1)),
        errors=errors,
        seconds=seconds,
        tool="wrk",
        non_2xx=int(non_2xx.group(1)) if non_2xx else 0,
    )


async def read_response(reader: asyncio.StreamReader) -> tuple[int, bytes]:
    """Status and body of one HTTP/1.1 response with a Content-Length (what our servers send)."""
    status_line = await reader.readline()
    if not status_line:
        raise ConnectionResetError("the server closed the connection")
    length = 0
    while True:
        line = await reader.readline()
        if line in (b"\r\n", b""):
            break
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            length = int(value)
    body = await reader.readexactly(length) if length else b""
    return int(status_line[9:12]), body


class RawHttpClient:
    """HTTP/1.1 requests written as bytes over keep-alive loopback connections, for latency
    figures: they should count the server, not a client library's Python (httpx added about
    1.5 ms to each POST of the matching bench, on the cores the servers use)."""

    IDLE_SECONDS = 4.0  # under uvicorn's keep-alive timeout (5 s)

    def __init__(self, host: str, port: int) -> None:
        self.host, self.port = host, port
        self.idle: list[tuple[asyncio.StreamReader, asyncio.StreamWriter, float]] = []

    async def _connection(self) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
        while self.idle:
            reader, writer, last_used = self.idle.pop()
            if time.monotonic() - last_used < self.IDLE_SECONDS:
                return reader, writer
            writer.close()
        return await asyncio.open_connection(self.host, self.port)

    async def request(
        self, method: str, path: str, *, body: bytes = b"", headers: dict[str, str] | None = None
    ) -> tuple[int, bytes]:
        reader, writer = await self._connection()
        head = f"{method} {path} HTTP/1.1\r\nHost: {self.host}:{self.port}\r\n"
        head += f"Content-Length: {len(body)}\r\n"
        head += "".join(f"{k}: {v}\r\n" for k, v in (headers or {}).items())
        try:
            writer.write(head.encode() + b"\r\n" + body)
            answer = await read_response(reader)
        except BaseException:
            writer.close()
            raise
        self.idle.append((reader, writer, time.monotonic()))
        return answer

    async def aclose(self) -> None:
        for _reader, writer, _ in self.idle:
            writer.close()
        self.idle.clear()


async def _python_load(url, connections, seconds, headers, rate) -> HttpResult:
    parts = urlsplit(url)
    path = parts.path or "/"
    if parts.query:
        path += "?" + parts.query
    head = f"GET {path} HTTP/1.1\r\nHost: {parts.hostname}:{parts.port}\r\n"
    head += "".join(f"{k}: {v}\r\n" for k, v in headers.items())
    request = (head + "\r\n").encode()
    latencies: list[float] = []
    errors = 0
    non_2xx = 0
    deadline = time.monotonic() + seconds
    pause = connections / rate if rate else 0.0
    gaps = random.Random(0)

    async def one_connection() -> None:
        nonlocal errors, non_2xx
        try:
            reader, writer = await asyncio.open_connection(parts.hostname, parts.port)
        except OSError:
            errors += 1
            return
        try:
            while time.monotonic() < deadline:
                started = time.perf_counter()
                writer.write(request)
                status, _body = await read_response(reader)
                latencies.append((time.perf_counter() - started) * 1000)
                if not 200 <= status < 400:
                    non_2xx += 1
                if pause:
                    await asyncio.sleep(gaps.expovariate(1 / pause))
        except (OSError, asyncio.IncompleteReadError):
            errors += 1
        finally:
            writer.close()

    started = time.monotonic()
    await asyncio.gather(*(one_connection() for _ in range(connections)))
    elapsed = time.monotonic() - started
    return HttpResult(
        rps=len(latencies) / elapsed,
        p50_ms=percentile(latencies, 50),
        p99_ms=percentile(latencies, 99),
        requests=len(latencies),
        errors=errors,
        seconds=elapsed,
        tool="python-asyncio",
        non_2xx=non_2xx,
    )
