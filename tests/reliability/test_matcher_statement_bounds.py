"""The `matcher` runs tasks on a thread pool, where Celery enforces no task time limits, so
PostgreSQL bounds its statements instead (config/celery_app.py). A matching pass stuck on a lock
gives up, is retried, and the worker's thread goes on to the next consult meanwhile.

How the pass gets stuck: as in test_celery_worker_loss.py, the test holds an uncommitted pending
offer for the first lawyer, and the pass's insert of its own offer waits on that row."""

from __future__ import annotations

import asyncio

import pytest
from asgiref.sync import sync_to_async

from marketplace.models import Consult
from tests.factories import LawyerProfileFactory, category, city
from tests.marketplace.factories import QuestionFactory
from tests.reliability.conftest import LiveSocket, async_wait_until
from tests.reliability.test_celery_worker_loss import (
    HeldOffer,
    broker_idle,
    consult_state,
    lock_waiters,
    new_consult,
    offer_frames,
)

pytestmark = [
    pytest.mark.fault,
    pytest.mark.timeout(120),
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]


@sync_to_async
def make_world():
    lawyers = [
        LawyerProfileFactory(home_city=city("370100"), practises=[category("debt")]).user
        for _ in range(2)
    ]
    questions = [QuestionFactory(category=category("debt"), city=city("370100")) for _ in range(2)]
    return lawyers, questions


def offered(consult: Consult):
    return lambda f: f.get("type") == "offer.new" and f["offer"]["consult"] == consult.pk


async def test_a_pass_stuck_on_a_lock_gives_up_and_the_thread_matches_the_next_consult(stack):
    # given two lawyers online and a matcher like the Procfile's, with one thread and a
    # lock timeout short enough for a test
    web = stack.web_process()
    (first, second), (stuck_question, next_question) = await make_world()
    socks = [await LiveSocket.open(lawyer, web.ws_url) for lawyer in (first, second)]
    for sock in socks:
        await sock.send({"type": "presence", "status": "online"})
    worker = await asyncio.to_thread(
        stack.celery_worker, pool="threads", queues="matching", WORKER_DB_LOCK_TIMEOUT_MS="300"
    )
    await async_wait_until(lambda: broker_idle(stack), timeout=20, what="an idle broker")
    stuck, following = await new_consult(stuck_question), await new_consult(next_question)
    celery = stack.celery_client()

    with HeldOffer(stuck, first):
        # when a pass blocks on the held row, and another consult is queued behind it
        celery.send_task("marketplace.match_consult", args=[stuck.pk, 0])
        await async_wait_until(lock_waiters, timeout=20, what="the pass to block")
        celery.send_task("marketplace.match_consult", args=[following.pk, 0])

        # then the stuck pass gives up and the one thread matches the next consult while
        # the row is still held
        for sock in socks:
            await sock.expect(offered(following), timeout=15, what="the next consult's offer")
        assert "lock timeout" in worker.log
        assert offer_frames(socks[0], stuck.pk) == []

    # and once the row is released, a retry of the stuck pass makes its offers, once each
    for sock in socks:
        await sock.expect(offered(stuck), timeout=30, what="the stuck consult's offer")
    await asyncio.sleep(1.0)  # room for a duplicate to show up
    assert [len(offer_frames(sock, stuck.pk)) for sock in socks] == [1, 1]
    matched, offers = await consult_state(stuck.pk)
    assert (matched.state, matched.search_round) == (Consult.State.OFFERED, 1)
    assert offers == [(first.pk, "pending"), (second.pk, "pending")]
    for sock in socks:
        await sock.close()
