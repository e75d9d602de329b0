"""A Celery worker killed in the middle of a matching pass: the pass is rolled back with the
dead worker's transaction and runs again, and the consult ends with one set of offers, each
lawyer told once, and one winner.

How the kill lands mid-pass: the test holds an uncommitted pending offer for the first lawyer
in a transaction of its own. The worker's pass locks the consult, bumps its search round and
inserts its offers, and that insert waits on the test's row (the partial unique index "one
pending offer per lawyer per consult"). The worker is killed while it waits, then the test
rolls its row back.
"""

from __future__ import annotations

import asyncio
import threading

import pytest
from asgiref.sync import sync_to_async
from django.conf import settings
from django.db import connections, transaction

from config.celery_app import app as production_app
from marketplace.models import Consult, Offer
from tests.factories import LawyerProfileFactory, category, city
from tests.marketplace.factories import ConsultFactory, OfferFactory, QuestionFactory
from tests.reliability.conftest import (
    LiveSocket,
    Stack,
    admin_connection,
    async_wait_until,
)

pytestmark = [
    pytest.mark.fault,
    pytest.mark.timeout(120),
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]


# --- the settings the guarantee rests on --------------------------------------------------------
def test_tasks_are_acknowledged_late_and_requeued_when_their_worker_dies():
    conf = production_app.conf
    assert conf.task_acks_late is True
    assert conf.task_reject_on_worker_lost is True
    assert conf.worker_prefetch_multiplier == 1


def test_visibility_timeout_outlasts_every_task_time_limit():
    """A task is handed to another worker only when it has been unacknowledged longer than the
    visibility timeout: shorter than a task's run, a live task would run twice at once."""
    production_app.loader.import_default_modules()
    visibility = settings.CELERY_BROKER_TRANSPORT_OPTIONS["visibility_timeout"]
    ours = {
        name: task for name, task in production_app.tasks.items() if not name.startswith("celery.")
    }
    assert ours, "no project task registered"
    for name, task in ours.items():
        limit = task.time_limit or production_app.conf.task_time_limit
        assert limit, f"{name} has no time limit"
        assert limit < visibility, f"{name}: time limit {limit}s ≥ visibility {visibility}s"
        assert task.acks_late, f"{name} is acknowledged before it runs"


# --- the kill ---------------------------------------------------------------------------------
class HeldOffer:
    """An uncommitted pending offer for (consult, lawyer), held in its own thread and
    connection until released, then rolled back."""

    def __init__(self, consult: Consult, lawyer):
        self.consult, self.lawyer = consult, lawyer
        self.held = threading.Event()
        self.release = threading.Event()
        self.thread = threading.Thread(target=self._hold, daemon=True)

    def _hold(self) -> None:
        class Rollback(Exception):
            pass

        try:
            with transaction.atomic():
                OfferFactory(consult=self.consult, lawyer=self.lawyer)
                self.held.set()
                self.release.wait(timeout=90)
                raise Rollback
        except Rollback:
            pass
        finally:
            connections.close_all()

    def __enter__(self) -> HeldOffer:
        self.thread.start()
        assert self.held.wait(10)
        return self

    def __exit__(self, *exc) -> None:
        self.release.set()
        self.thread.join(10)


def lock_waiters() -> list[int]:
    with admin_connection() as conn:
        rows = conn.execute(
            "SELECT pid FROM pg_stat_activity WHERE datname = current_database() "
            "AND wait_event_type = 'Lock' AND query ILIKE %s",
            ["%marketplace_offer%"],
        ).fetchall()
    return [row[0] for row in rows]


def backend_gone(pid: int) -> bool:
    with admin_connection() as conn:
        return (
            conn.execute("SELECT 1 FROM pg_stat_activity WHERE pid = %s", [pid]).fetchone() is None
        )


def broker_idle(stack: Stack) -> bool:
    broker = stack.broker()
    try:
        queued = sum(broker.llen(q) for q in ("default", "matching", "periodic"))
        return queued == 0 and broker.hlen("unacked") == 0
    finally:
        broker.close()


def offer_frames(sock: LiveSocket, consult_id: int) -> list[dict]:
    return sock.matching(
        lambda f: f.get("type") == "offer.new" and f["offer"]["consult"] == consult_id
    )


@sync_to_async
def make_world():
    lawyers = [
        LawyerProfileFactory(home_city=city("370100"), practises=[category("debt")]).user
        for _ in range(2)
    ]
    question = QuestionFactory(category=category("debt"), city=city("370100"))
    return lawyers, question


@sync_to_async
def new_consult(question) -> Consult:
    # written straight to the table: no matching task is enqueued on the side
    return ConsultFactory(question=question, asker=question.asker, search_round=0)


@sync_to_async
def consult_state(consult_id: int) -> tuple[Consult, list[tuple[int, str]]]:
    consult = Consult.objects.get(pk=consult_id)
    offers = list(
        Offer.objects.filter(consult_id=consult_id)
        .order_by("lawyer_id")
        .values_list("lawyer_id", "state")
    )
    return consult, offers


@pytest.mark.parametrize("kill", ["pool_process", "whole_worker"])
async def test_worker_killed_mid_matching_makes_one_set_of_offers_and_one_match(stack, kill):
    # given a web process, two verified lawyers online on it, and an asker
    web = stack.web_process()
    (first, second), question = await make_world()
    lawyer_socks = [await LiveSocket.open(lawyer, web.ws_url) for lawyer in (first, second)]
    asker_sock = await LiveSocket.open(question.asker, web.ws_url)
    for sock in lawyer_socks:
        await sock.send({"type": "presence", "status": "online"})
    # and a worker: a prefork pool (the Procfile's `worker`) whose pool process is killed, or a
    # thread pool (its `matcher`, where matching runs) killed whole
    pool = "prefork" if kill == "pool_process" else "threads"
    worker = await asyncio.to_thread(stack.celery_worker, pool=pool)
    await async_wait_until(lambda: broker_idle(stack), timeout=20, what="an idle broker")
    consult = await new_consult(question)

    # when the worker's pass is stuck inserting its offers and the worker is killed
    with HeldOffer(consult, first):
        stack.celery_client().send_task("marketplace.match_consult", args=[consult.pk, 0])
        blocked = await async_wait_until(lock_waiters, timeout=20, what="the pass to block")
        if kill == "pool_process":
            (child,) = worker.pool_children()
            child.kill()
            await async_wait_until(
                lambda: "WorkerLostError" in worker.log, timeout=20, what="the worker to see it"
            )
        else:
            await asyncio.to_thread(worker.kill)
            assert (await asyncio.to_thread(stack.broker().hlen, "unacked")) == 1
    await async_wait_until(lambda: backend_gone(blocked[0]), timeout=20, what="the dead pass")

    if kill == "whole_worker":
        # the interrupted pass left nothing behind...
        stuck, offers = await consult_state(consult.pk)
        assert (stuck.state, stuck.search_round, offers) == (Consult.State.QUEUED, 0, [])
        # ...and a new worker takes the task over once it has been invisible long enough
        await asyncio.sleep(1.1)
        await asyncio.to_thread(stack.celery_worker, pool="solo", CELERY_VISIBILITY_TIMEOUT="1")

    # then each lawyer is offered the consult once, by one pass
    for sock in lawyer_socks:
        await sock.expect(
            lambda f: f.get("type") == "offer.new" and f["offer"]["consult"] == consult.pk,
            timeout=30,
        )
    await asyncio.sleep(1.0)  # room for a duplicate to show up
    assert [len(offer_frames(sock, consult.pk)) for sock in lawyer_socks] == [1, 1]
    matched, offers = await consult_state(consult.pk)
    assert matched.state == Consult.State.OFFERED
    assert matched.search_round == 1
    assert offers == [(first.pk, "pending"), (second.pk, "pending")]

    # and the first accept makes the one match
    (offer,) = offer_frames(lawyer_socks[0], consult.pk)
    await lawyer_socks[0].send({"type": "offer.accept", "offer": offer["offer"]["id"]})
    await asker_sock.expect(lambda f: f.get("type") == "consult.matched", timeout=10)
    await lawyer_socks[1].expect(lambda f: f.get("type") == "offer.revoked", timeout=10)
    matched, offers = await consult_state(consult.pk)
    assert (matched.state, matched.lawyer_id) == (Consult.State.ACTIVE, first.pk)
    assert matched.conversation_id is not None
    assert offers == [(first.pk, "accepted"), (second.pk, "revoked")]
    for sock in (*lawyer_socks, asker_sock):
        await sock.close()
