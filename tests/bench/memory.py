"""Server memory per idle WebSocket: N authenticated clients connected to one web process
(the Procfile's web line, 1 worker), against a bare Channels consumer served the same way,
both measured in this run as the growth of the server's resident memory divided by N."""

from __future__ import annotations

import asyncio
import gc

from tests.bench.references import References
from tests.bench.report import Report, Row, Target
from tests.bench.stack import Stack, procfile_command
from tests.bench.wsclients import Client, close_all, connect_all, create_users, issue_tokens

SECTION = "memory"
BARE_APP = "tests.bench.servers.bare_channels:application"


def bare_server(stack: Stack):
    from config.devstack import free_loopback_port
    from tests.bench.stack import wait_ready

    port = free_loopback_port()
    env = {
        **stack.env,
        "LAWLINE_HOST": "127.0.0.1",
        "LAWLINE_PORT": str(port),
        "WEB_CONCURRENCY": "1",
    }
    # the Procfile's web server with the bare consumer's app in place of the project's
    argv = [*procfile_command("web", env), "--app", BARE_APP]
    proc = stack.spawn(f"memory-bare-{port}", argv, port=port, env=env)
    wait_ready(port, 1)
    return proc


async def hold(proc, clients: list[Client], settle: float = 3.0) -> dict:
    """Connect a few first (imports, pools, caches), then everyone; RSS growth per socket."""
    warm, rest = clients[:100], clients[100:]
    await connect_all(warm)
    await asyncio.sleep(1.0)
    before = proc.rss()
    failures, seconds = await connect_all(rest, concurrency=100)
    await asyncio.sleep(settle)
    after = proc.rss()
    alive = sum(1 for c in rest if c.sock is not None and c.closed_code is None)
    await close_all(clients)
    connected = len(rest) - failures
    return {
        "connected": connected,
        "alive_after_settle": alive,
        "failures": failures,
        "connect_seconds": seconds,
        "rss_before": before,
        "rss_after": after,
        "bytes_per_socket": (after - before) / max(1, connected),
    }


def run(stack: Stack, report: Report, refs: References, profile: dict) -> None:
    count = profile["memory_connections"]
    user_ids = create_users("benchidle", count + 100, "asker")
    tokens = issue_tokens(user_ids)
    gc.collect()

    bare = bare_server(stack)
    bare_clients = [Client(uid, tokens[uid], f"ws://127.0.0.1:{bare.port}/ws/") for uid in user_ids]
    bare_result = asyncio.run(hold(bare, bare_clients))
    stack.stop(bare)
    del bare_clients
    gc.collect()

    web = stack.web(workers=1, name="memory-app")
    app_clients = [Client(uid, tokens[uid], f"ws://127.0.0.1:{web.port}/ws/") for uid in user_ids]
    app_result = asyncio.run(hold(web, app_clients))
    stack.stop(web)
    del app_clients

    reference_bytes = bare_result["bytes_per_socket"]
    report.add(
        Row(
            SECTION,
            f"server memory per idle WebSocket ({app_result['connected']:,} connected)",
            app_result["bytes_per_socket"] / 1024,
            "KB",
            reference="bare Channels consumer, same server",
            reference_value=reference_bytes / 1024,
            reference_unit="KB",
            targets=[Target("<=", 1.25, on="ratio")],
            note=f"app: {app_result['failures']} failed, connected in "
            f"{app_result['connect_seconds']:.0f} s, {app_result['alive_after_settle']:,} open "
            f"after settling; bare: {bare_result['connected']:,} connected; asker sockets "
            "with bearer tokens, one web process",
            detail={"app": app_result, "bare": bare_result},
        )
    )
