"""A web process killed (SIGKILL: no goodbye to anyone) while its clients are mid-conversation,
some of their messages sent but not yet acknowledged. The clients reconnect to the other process,
resume, and resend what was never acknowledged with the same client_id: every message is there
once, in order, on both sides and in the database."""

from __future__ import annotations

import asyncio
import signal
import uuid

import pytest
import websockets
from asgiref.sync import sync_to_async

from messaging.models import Message
from tests.factories import AskerFactory, LawyerFactory
from tests.messaging.factories import direct_conversation
from tests.reliability.conftest import LiveSocket, async_wait_until, tracebacks

pytestmark = [
    pytest.mark.fault,
    pytest.mark.timeout(120),
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]


@sync_to_async
def make_pair():
    asker, lawyer = AskerFactory(), LawyerFactory()
    return asker, lawyer, direct_conversation(asker, lawyer).pk


@sync_to_async
def stored(conversation: int) -> list[tuple[int, str]]:
    return list(
        Message.objects.filter(conversation_id=conversation)
        .order_by("seq")
        .values_list("seq", "body")
    )


async def test_clients_of_a_killed_web_process_reconnect_to_the_other_and_lose_nothing(stack):
    # given an asker on one process and a lawyer on the other, talking
    doomed, survivor = stack.web_process(), stack.web_process()
    asker, lawyer, conversation = await make_pair()
    asker_sock = await LiveSocket.open(asker, doomed.ws_url)
    lawyer_sock = await LiveSocket.open(lawyer, survivor.ws_url)
    await asker_sock.send_message(conversation, "hello")
    await lawyer_sock.expect(lambda f: f.get("body") == "hello")
    await lawyer_sock.send_message(conversation, "hello, how can I help")
    await asker_sock.expect(lambda f: f.get("body") == "hello, how can I help")

    # when the asker sends a burst and its process is killed in the middle of it
    burst = {uuid.uuid4().hex: f"burst {i}" for i in range(6)}
    for i, (client_id, body) in enumerate(burst.items()):
        try:
            await asker_sock.send(
                {
                    "type": "message.send",
                    "conversation": conversation,
                    "client_id": client_id,
                    "body": body,
                }
            )
        except websockets.ConnectionClosed:
            pass  # the process is gone: this one was never sent
        if i == 2:
            doomed.process.send_signal(signal.SIGKILL)
    await asyncio.to_thread(doomed.process.wait, 10)
    await asyncio.wait_for(asker_sock.closed.wait(), 10)
    # and the lawyer goes on talking meanwhile
    for body in ("are you there?", "I will wait"):
        await lawyer_sock.send_message(conversation, body)

    # then the asker reconnects to the process left and resumes from its cursor
    reached = await asker_sock.reconnect([doomed.ws_url, survivor.ws_url])
    assert reached == survivor.ws_url
    acked = {f["client_id"] for f in asker_sock.frames if f.get("type") == "message.ack"}
    # and resends, with the same client_id, each message it never saw acknowledged
    for client_id, body in burst.items():
        if client_id not in acked:
            answer = await asker_sock.send_message(conversation, body, client_id=client_id)
            assert answer["type"] == "message.ack", answer

    # then every message is stored once and both sides have all of them, in seq order
    rows = await stored(conversation)
    bodies = [body for _, body in rows]
    assert [seq for seq, _ in rows] == list(range(1, len(rows) + 1))
    assert sorted(bodies) == sorted(
        ["hello", "hello, how can I help", *burst.values(), "are you there?", "I will wait"]
    )
    assert [b for b in bodies if b.startswith("burst")] == list(burst.values())
    for sock in (asker_sock, lawyer_sock):
        await async_wait_until(
            lambda s=sock: s.bodies(conversation) == bodies, timeout=10, what="every message"
        )
    await asker_sock.close()
    await lawyer_sock.close()
    assert not tracebacks(stack.web_stderr())
