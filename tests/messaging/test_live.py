"""Chat across real uvicorn processes with real `websockets` clients: one participant on each
process, as behind a load balancer."""

from __future__ import annotations

import asyncio
import json
import time

import httpx
import pytest
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed

from config.devstack import EmbeddedRedis
from config.socket_outage import CLOSE_TRY_AGAIN_LATER
from tests.conftest import bearer_for

pytestmark = pytest.mark.django_db(transaction=True)

ORIGIN = "http://127.0.0.1"


class LiveClient:
    """A websockets client that keeps frames of other types while waiting for one."""

    def __init__(self, conn: ClientConnection):
        self.conn = conn
        self.pending: list[dict] = []

    @classmethod
    async def open(cls, server, token: str) -> LiveClient:
        conn = await connect(
            server.ws_url,
            origin=ORIGIN,
            additional_headers={"Authorization": f"Bearer {token}"},
            open_timeout=10,
        )
        client = cls(conn)
        await client.send({"type": "ping"})
        await client.next("pong")  # its connect hooks are done
        return client

    async def send(self, frame: dict) -> None:
        await self.conn.send(json.dumps(frame))

    async def next(self, frame_type: str, timeout: float = 5, **match) -> dict:
        """The first frame of this type (whose fields equal `match`), keeping the others."""

        def wanted(frame: dict) -> bool:
            return frame["type"] == frame_type and all(frame.get(k) == v for k, v in match.items())

        for index, frame in enumerate(self.pending):
            if wanted(frame):
                return self.pending.pop(index)
        deadline = time.monotonic() + timeout
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise AssertionError(f"no {frame_type!r} frame within {timeout}s")
            try:
                frame = json.loads(await asyncio.wait_for(self.conn.recv(), remaining))
            except TimeoutError:
                continue
            if wanted(frame):
                return frame
            self.pending.append(frame)

    async def drain(self, frame_type: str, quiet: float = 0.5) -> list[dict]:
        """Every frame of this type until none came for `quiet` seconds."""
        frames = [f for f in self.pending if f["type"] == frame_type]
        self.pending = [f for f in self.pending if f["type"] != frame_type]
        while True:
            try:
                frames.append(await self.next(frame_type, timeout=quiet))
            except AssertionError:
                return frames

    async def close(self) -> None:
        await self.conn.close()


def message(conversation_id: int, client_id: str, body: str) -> dict:
    return {
        "type": "message.send",
        "conversation": conversation_id,
        "client_id": client_id,
        "body": body,
    }


@pytest.fixture
def tokens(asker, lawyer):
    return {"asker": bearer_for(asker), "lawyer": bearer_for(lawyer)}


async def test_participants_on_two_processes_exchange_messages_both_ways(
    web_processes, conversation, asker, lawyer, tokens
):
    first, second = web_processes(), web_processes()
    asker_ws = await LiveClient.open(first, tokens["asker"])
    lawyer_ws = await LiveClient.open(second, tokens["lawyer"])
    try:
        # asker on the first process → lawyer on the second
        await asker_ws.send(message(conversation.pk, "a-1", "律师您好，我被拖欠工资"))
        ack = await asker_ws.next("message.ack")
        new = await lawyer_ws.next("message.new", sender=asker.pk)
        assert (new["id"], new["seq"]) == (ack["id"], 1)
        assert new["body"] == "律师您好，我被拖欠工资"
        # and back
        await lawyer_ws.send(message(conversation.pk, "l-1", "请问拖欠了多久？"))
        ack = await lawyer_ws.next("message.ack")
        new = await asker_ws.next("message.new", sender=lawyer.pk)
        assert (new["id"], new["seq"]) == (ack["id"], 2)
        # the read receipt crosses too
        await asker_ws.send({"type": "read", "conversation": conversation.pk, "seq": 2})
        receipt = await lawyer_ws.next("read")
        assert (receipt["user"], receipt["seq"]) == (asker.pk, 2)
    finally:
        await asker_ws.close()
        await lawyer_ws.close()


async def test_reconnect_with_resume_gets_exactly_what_was_missed_in_order(
    web_processes, conversation, asker, lawyer, tokens
):
    first, second = web_processes(), web_processes()
    asker_ws = await LiveClient.open(first, tokens["asker"])
    lawyer_ws = await LiveClient.open(second, tokens["lawyer"])
    await lawyer_ws.send(message(conversation.pk, "l-0", "在吗"))
    await lawyer_ws.next("message.ack")
    assert (await asker_ws.next("message.new"))["seq"] == 1
    # when the asker drops off and the lawyer sends 5
    await asker_ws.close()
    for n in range(1, 6):
        await lawyer_ws.send(message(conversation.pk, f"l-{n}", f"第{n}条"))
        assert (await lawyer_ws.next("message.ack"))["seq"] == n + 1
    # then reconnecting (to the other process) with resume replays exactly those 5
    asker_ws = await LiveClient.open(second, tokens["asker"])
    try:
        await asker_ws.send({"type": "resume", "cursors": {str(conversation.pk): 1}})
        replayed = await asker_ws.drain("message.new")
        assert [f["seq"] for f in replayed] == [2, 3, 4, 5, 6]
        assert [f["body"] for f in replayed] == [f"第{n}条" for n in range(1, 6)]
    finally:
        await asker_ws.close()
        await lawyer_ws.close()


@pytest.mark.fault
async def test_redis_restart_mid_conversation_loses_nothing_after_resume(
    web_processes, conversation, asker, lawyer, tokens, tmp_path
):
    redis_server = EmbeddedRedis(tmp_path / "redis").start()
    port = redis_server.port
    try:
        first = web_processes(REDIS_URL=redis_server.url)
        second = web_processes(REDIS_URL=redis_server.url)
        asker_ws = await LiveClient.open(first, tokens["asker"])
        lawyer_ws = await LiveClient.open(second, tokens["lawyer"])
        await lawyer_ws.send(message(conversation.pk, "before", "开始"))
        await lawyer_ws.next("message.ack")
        assert (await asker_ws.next("message.new"))["seq"] == 1

        # when Redis goes away
        redis_server.kill()
        # then messages are still stored and acknowledged, promptly
        for n in range(3):
            started = time.monotonic()
            await lawyer_ws.send(message(conversation.pk, f"down-{n}", f"断线{n}"))
            ack = await lawyer_ws.next("message.ack", timeout=10)
            assert ack["seq"] == n + 2 and time.monotonic() - started < 5
        # a socket opened meanwhile is told to come back later, not given a 500
        async with connect(
            first.ws_url,
            origin=ORIGIN,
            additional_headers={"Authorization": f"Bearer {tokens['asker']}"},
        ) as refused:
            with pytest.raises(ConnectionClosed) as closed:
                await asyncio.wait_for(refused.recv(), 10)
            assert closed.value.rcvd.code == CLOSE_TRY_AGAIN_LATER
        # no consumer hangs: both sockets still answer
        for client in (asker_ws, lawyer_ws):
            await client.send({"type": "ping"})
            await client.next("pong")
        # and no HTTP 500s
        async with httpx.AsyncClient(timeout=10) as http:
            for server in (first, second):
                response = await http.get(
                    f"{server.http_url}/api/v1/conversations",
                    headers={"Authorization": f"Bearer {tokens['asker']}"},
                )
                assert response.status_code == 200
                assert response.json()[0]["last_seq"] == 4

        # when Redis is back
        redis_server = EmbeddedRedis(tmp_path / "redis", port=port).start()
        await lawyer_ws.send(message(conversation.pk, "after", "恢复"))
        assert (await lawyer_ws.next("message.ack"))["seq"] == 5
        # then resume brings everything the asker missed, in order
        await asker_ws.send({"type": "resume", "cursors": {str(conversation.pk): 1}})
        frames = await asker_ws.drain("message.new", quiet=1.0)
        seqs = [f["seq"] for f in frames]
        assert sorted(set(seqs)) == [2, 3, 4, 5]
        # and live delivery works again, on the sockets that lived through it and on new ones
        fresh = await LiveClient.open(first, tokens["asker"])
        await lawyer_ws.send(message(conversation.pk, "live", "实时"))
        assert (await fresh.next("message.new", timeout=10))["seq"] == 6
        assert (await asker_ws.next("message.new", timeout=10, seq=6))["body"] == "实时"
        await fresh.close()
        await asker_ws.close()
        await lawyer_ws.close()
    finally:
        redis_server.stop()
