"""Redis stopped and started again (empty, as after a crash without persistence) while an asker
and a lawyer are connected to two web processes, mid-conversation, with a consult being asked
for meanwhile. Nothing is lost: what was sent during the outage was stored and comes back with
`resume`, live delivery works again, the lawyer's presence is rebuilt by its heartbeat, and the
consult asked for during the outage reaches the lawyer."""

from __future__ import annotations

import httpx
import pytest
from asgiref.sync import sync_to_async
from django.conf import settings

from marketplace.models import Consult
from messaging.models import Message
from tests.conftest import bearer_for
from tests.factories import LawyerProfileFactory, category, city
from tests.marketplace.factories import QuestionFactory
from tests.messaging.factories import consult_with_conversation
from tests.reliability.conftest import LiveSocket, async_wait_until, tracebacks

pytestmark = [
    pytest.mark.fault,
    pytest.mark.timeout(150),
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]


@sync_to_async
def make_world():
    lawyer = LawyerProfileFactory(home_city=city("370100"), practises=[category("debt")]).user
    asker = QuestionFactory().asker
    consult = consult_with_conversation(asker, lawyer)
    # another asker, whose question is asked for a consult while Redis is down
    question = QuestionFactory(category=category("debt"), city=city("370100"))
    return lawyer, asker, consult.conversation_id, question, bearer_for(question.asker)


def nation_presence(redis_client, lawyer_id: int):
    return redis_client.zscore(f"{settings.REDIS_KEY_PREFIX}presence:z:100000", str(lawyer_id))


async def test_redis_restart_loses_no_message_or_offer_and_presence_comes_back(stack):
    # given an asker on one web process and a lawyer on another, mid-conversation
    web_a, web_b = stack.web_process(), stack.web_process()
    stack.celery_worker()
    stack.celery_beat()
    lawyer, asker, conversation, other_question, other_token = await make_world()
    asker_sock = await LiveSocket.open(asker, web_a.ws_url)
    lawyer_sock = await LiveSocket.open(lawyer, web_b.ws_url)
    await lawyer_sock.send({"type": "presence", "status": "online"})
    app_redis = stack.redis.client(settings.REDIS_DB_APP)
    await async_wait_until(
        lambda: nation_presence(app_redis, lawyer.pk), timeout=10, what="presence"
    )
    ack = await asker_sock.send_message(conversation, "before the outage")
    assert ack["type"] == "message.ack"
    await lawyer_sock.expect(lambda f: f.get("body") == "before the outage")

    # when Redis goes away
    stack.redis.kill()
    during = {"asker": [f"asker during {i}" for i in range(3)], "lawyer": ["lawyer during"]}
    # then messages sent meanwhile are still stored and acknowledged
    for body in during["asker"]:
        assert (await asker_sock.send_message(conversation, body))["type"] == "message.ack"
    for body in during["lawyer"]:
        assert (await lawyer_sock.send_message(conversation, body))["type"] == "message.ack"
    # and an asker can still open a consult (the matching task cannot be queued yet)
    async with httpx.AsyncClient(base_url=web_a.http_url, timeout=10) as http:
        response = await http.post(
            "/api/v1/consults",
            json={"question": other_question.pk},
            headers={"Authorization": f"Bearer {other_token}"},
        )
    assert response.status_code == 201, response.text
    consult_during = response.json()["id"]

    # when Redis is back (empty)
    stack.redis.restart()
    app_redis = stack.redis.client(settings.REDIS_DB_APP)
    # the servers kept both sockets open through the outage (the channel layer resubscribes
    # by itself); a client resumes from its cursors when it sees a gap in seq (here: at once)
    assert not asker_sock.closed.is_set() and not lawyer_sock.closed.is_set()
    for sock in (asker_sock, lawyer_sock):
        await sock.send({"type": "resume", "cursors": sock.cursors})
    # beat's matching sweep notes again that consults wait (the hint died with Redis; a
    # lawyer arriving before that is matched by the sweep when the consult's search widens)
    await async_wait_until(
        lambda: app_redis.get(f"{settings.REDIS_KEY_PREFIX}matching:waiting") not in (None, b"0"),
        timeout=20,
        what="beat to note the waiting consult",
    )
    # the lawyer's next heartbeat rebuilds its presence, and brings it the consult asked for
    await lawyer_sock.send({"type": "presence", "status": "online"})
    await async_wait_until(
        lambda: nation_presence(app_redis, lawyer.pk), timeout=10, what="presence again"
    )
    offer = await lawyer_sock.expect(
        lambda f: f.get("type") == "offer.new" and f["offer"]["consult"] == consult_during,
        timeout=30,
        what="the offer of the consult asked for during the outage",
    )

    # then both sides have every message, in order, once
    everything = ["before the outage", *during["asker"], *during["lawyer"]]
    for sock in (asker_sock, lawyer_sock):
        await async_wait_until(
            lambda s=sock: s.bodies(conversation) == everything,
            timeout=10,
            what="every message after resume",
        )
    # and live delivery works again, both ways and across the two processes
    await asker_sock.send_message(conversation, "after, from the asker")
    await lawyer_sock.expect(lambda f: f.get("body") == "after, from the asker")
    await lawyer_sock.send_message(conversation, "after, from the lawyer")
    await asker_sock.expect(lambda f: f.get("body") == "after, from the lawyer")
    # and the offer can be taken
    await lawyer_sock.send({"type": "offer.accept", "offer": offer["offer"]["id"]})
    await lawyer_sock.expect(lambda f: f.get("type") == "consult.matched", timeout=10)

    stored = await sync_to_async(
        lambda: list(
            Message.objects.filter(conversation_id=conversation)
            .order_by("seq")
            .values_list("seq", "body")
        )
    )()
    assert [body for _, body in stored] == [
        *everything,
        "after, from the asker",
        "after, from the lawyer",
    ]
    assert [seq for seq, _ in stored] == list(range(1, len(stored) + 1))
    matched = await sync_to_async(Consult.objects.get)(pk=consult_during)
    assert (matched.state, matched.lawyer_id) == (Consult.State.ACTIVE, lawyer.pk)
    for sock in (asker_sock, lawyer_sock):
        await sock.close()
    # the servers kept answering: no request failed with a traceback
    assert not [line for line in tracebacks(stack.web_stderr()) if "500" in line]
