"""PostgreSQL connections cut under a running web process (a failover, a restart, an admin's
`pg_terminate_backend`), and sockets opening and closing by the dozen: the next message is
stored, the next request answers, and the process holds no more connections than before."""

from __future__ import annotations

import asyncio

import httpx
import pytest
from asgiref.sync import sync_to_async
from django.conf import settings

from messaging.models import Message
from tests.conftest import bearer_for
from tests.factories import AskerFactory, LawyerFactory
from tests.messaging.factories import direct_conversation
from tests.reliability.conftest import LiveSocket, admin_connection, async_wait_until

pytestmark = [
    pytest.mark.fault,
    pytest.mark.timeout(120),
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]

APP_NAME = "lawline-web-fault"


def web_backends() -> list[tuple[int, str]]:
    """(pid, state) of the web process's connections (it names them with PGAPPNAME)."""
    with admin_connection() as conn:
        return conn.execute(
            "SELECT pid, state FROM pg_stat_activity WHERE application_name = %s", [APP_NAME]
        ).fetchall()


def terminate_web_backends() -> int:
    with admin_connection() as conn:
        rows = conn.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = %s",
            [APP_NAME],
        ).fetchall()
    return sum(1 for (done,) in rows if done)


@sync_to_async
def make_pair():
    asker, lawyer = AskerFactory(), LawyerFactory()
    return asker, lawyer, direct_conversation(asker, lawyer).pk


@sync_to_async
def stored_bodies(conversation: int) -> list[str]:
    return list(
        Message.objects.filter(conversation_id=conversation)
        .order_by("seq")
        .values_list("body", flat=True)
    )


async def test_next_message_and_request_succeed_after_connections_are_terminated(stack):
    # given a conversation under way on a web process
    web = stack.web_process(PGAPPNAME=APP_NAME)
    asker, lawyer, conversation = await make_pair()
    asker_sock = await LiveSocket.open(asker, web.ws_url)
    lawyer_sock = await LiveSocket.open(lawyer, web.ws_url)
    assert (await asker_sock.send_message(conversation, "one"))["type"] == "message.ack"
    await lawyer_sock.expect(lambda f: f.get("body") == "one")
    token = await sync_to_async(bearer_for)(asker)
    async with httpx.AsyncClient(base_url=web.http_url, timeout=10) as http:
        assert (await http.get("/api/v1/conversations", headers=auth(token))).status_code == 200

        # when every connection the process holds is terminated
        assert await asyncio.to_thread(terminate_web_backends) >= 1

        # then the very next message is stored, acknowledged and delivered
        reply = await lawyer_sock.send_message(conversation, "two")
        assert reply["type"] == "message.ack", reply
        await asker_sock.expect(lambda f: f.get("body") == "two")
        # and the very next request answers
        response = await http.get(
            f"/api/v1/conversations/{conversation}/messages", headers=auth(token)
        )
        assert response.status_code == 200, response.text
        assert [m["body"] for m in response.json()["messages"]] == ["one", "two"]
    assert await stored_bodies(conversation) == ["one", "two"]
    await asker_sock.close()
    await lawyer_sock.close()


def auth(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


@sync_to_async
def make_users(count: int):
    lawyer = LawyerFactory()
    askers = [AskerFactory() for _ in range(count)]
    conversations = [direct_conversation(asker, lawyer).pk for asker in askers]
    return askers, conversations


async def open_chat_close(web, askers, conversations) -> None:
    socks = await asyncio.gather(*(LiveSocket.open(a, web.ws_url) for a in askers))
    acks = await asyncio.gather(
        *(s.send_message(c, "hello") for s, c in zip(socks, conversations, strict=True))
    )
    assert {a["type"] for a in acks} == {"message.ack"}
    await asyncio.gather(*(s.close() for s in socks))


async def test_fifty_sockets_opening_and_closing_leave_no_connection_behind(stack):
    # given a web process whose pool closes connections unused for a second, at rest
    web = stack.web_process(PGAPPNAME=APP_NAME, DB_POOL_MAX_IDLE="1")
    askers, conversations = await make_users(50)
    await open_chat_close(web, askers[:1], conversations[:1])
    baseline = len(await async_wait_until(web_backends, timeout=10, what="a connection"))
    # when fifty sockets open, each sends a message, and all close
    await open_chat_close(web, askers, conversations)
    busiest = len(web_backends())
    # then no connection is left checked out or in a transaction, the pool stayed within its
    # bound, and the process goes back to the connections it had before
    pool_max = settings.DATABASES["default"]["OPTIONS"]["pool"]["max_size"]
    assert baseline <= busiest <= pool_max
    at_rest = await async_wait_until(
        lambda: (
            (rows := web_backends())
            and len(rows) <= baseline
            and all(state == "idle" for _, state in rows)
        ),
        timeout=30,
        what=f"the web process back to {baseline} idle connection(s) (had {busiest})",
    )
    assert at_rest
