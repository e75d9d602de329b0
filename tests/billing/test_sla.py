"""The first-reply guarantee: expiry at the deadline, and a reply racing it."""

from __future__ import annotations

import threading
import time
from datetime import timedelta

import pytest
from asgiref.sync import sync_to_async
from django.db import connections
from django.utils import timezone

from billing import services as billing_services
from billing.models import Payment
from billing.services import consult_sla_expire_due, payment_prepare, payment_settle
from marketplace.consult_messages import ConsultExpired
from marketplace.models import Consult
from messaging.models import Message
from messaging.services import message_send
from tests.billing.factories import make_active, paid_consult, pending_consult
from tests.conftest import receive_until
from tests.factories import LawyerProfileFactory


def authorised_active_consult(fake, asker, lawyer=None, *, overdue: bool = True):
    """An active consult with a Stripe payment authorised at the fake, its deadline passed
    (set up with the models, so no matching task runs on the side)."""
    consult, payment = paid_consult(asker=asker)
    payment = payment_prepare(payment=payment)
    fake.authorize(payment.gateway_reference)
    Payment.objects.filter(pk=payment.pk).update(
        state=Payment.State.AUTHORIZED, authorized_at=timezone.now()
    )
    queued_at = timezone.now() - timedelta(seconds=601 if overdue else 60)
    consult = make_active(consult, lawyer, queued_at=queued_at)
    payment.refresh_from_db()
    return consult, payment


def wait_for_final_state(payment: Payment, timeout: float = 20) -> str:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        payment.refresh_from_db()
        if payment.state in (Payment.State.CAPTURED, Payment.State.CANCELED):
            return payment.state
        time.sleep(0.05)
    raise AssertionError(f"payment {payment.pk} still {payment.state} ({payment.last_error})")


def test_overdue_consult_expires_and_its_payment_is_canceled(asker, stripe_on):
    # given one overdue and one still in time
    overdue, payment = authorised_active_consult(stripe_on, asker)
    in_time, other = authorised_active_consult(stripe_on, asker, overdue=False)
    # when
    expired = consult_sla_expire_due()
    payment_settle(payment_id=payment.pk)
    # then
    assert expired == 1
    overdue.refresh_from_db()
    in_time.refresh_from_db()
    payment.refresh_from_db()
    assert overdue.state == Consult.State.EXPIRED
    assert in_time.state == Consult.State.ACTIVE
    assert (payment.settle_action, payment.state) == ("cancel", "canceled")
    assert stripe_on.operations_of("cancel") == [payment.gateway_reference]
    (cancel,) = stripe_on.requests_to("/cancel")
    assert cancel.idempotency_key == payment.operation_key("cancel")
    assert Message.objects.filter(notice__kind="consult_expired").count() == 1


def test_a_consult_whose_expiry_fails_does_not_hold_back_the_others(asker, stripe_on, monkeypatch):
    # given two overdue consults, the older one failing to expire
    older, _ = authorised_active_consult(stripe_on, asker)
    newer, payment = authorised_active_consult(stripe_on, asker)
    Consult.objects.filter(pk=older.pk).update(sla_deadline=newer.sla_deadline - timedelta(1))
    real_expire = billing_services.consult_sla_expire

    def expire(*, consult):
        if consult.pk == older.pk:
            raise RuntimeError("boom")
        real_expire(consult=consult)

    monkeypatch.setattr(billing_services, "consult_sla_expire", expire)
    # when
    expired = consult_sla_expire_due()
    # then the newer one expired and the older one is left for the next sweep, unchanged
    assert expired == 1
    newer.refresh_from_db()
    older.refresh_from_db()
    payment.refresh_from_db()
    assert newer.state == Consult.State.EXPIRED and payment.settle_action == "cancel"
    assert older.state == Consult.State.ACTIVE


def test_answered_consult_never_expires(asker, stripe_on):
    consult, _ = authorised_active_consult(stripe_on, asker)
    message_send(
        sender=consult.lawyer, conversation_id=consult.conversation_id, client_id="a", body="您好"
    )
    assert consult_sla_expire_due() == 0
    consult.refresh_from_db()
    assert consult.state == Consult.State.ACTIVE


def test_an_unanswered_free_consult_expires_with_a_notice_that_speaks_of_no_payment(asker):
    # given a free consult, taken by a lawyer who never replied before the deadline
    consult = pending_consult(asker=asker, price=0)
    Consult.objects.filter(pk=consult.pk).update(is_paid=False)
    consult.refresh_from_db()
    make_active(consult, queued_at=timezone.now() - timedelta(seconds=601))
    # when
    assert consult_sla_expire_due() == 1
    # then the asker's notice is the free one
    (notice,) = Message.objects.filter(notice__kind__startswith="consult_expired")
    assert notice.notice["kind"] == "consult_expired_free"
    assert "免费咨询" in notice.body and "收取" not in notice.body


def test_lawyer_message_into_an_expired_consult_is_consult_expired(asker, stripe_on):
    consult, _ = authorised_active_consult(stripe_on, asker)
    consult_sla_expire_due()
    with pytest.raises(ConsultExpired):
        message_send(
            sender=consult.lawyer,
            conversation_id=consult.conversation_id,
            client_id="l",
            body="晚了",
        )


def test_queued_consult_without_any_lawyer_expires_too(asker, sandbox_on):
    # given a paid consult still looking for a lawyer past its deadline
    consult, payment = paid_consult(asker=asker)
    Payment.objects.filter(pk=payment.pk).update(state=Payment.State.AUTHORIZED)
    Consult.objects.filter(pk=consult.pk).update(
        state=Consult.State.QUEUED,
        queued_at=timezone.now() - timedelta(minutes=11),
        sla_deadline=timezone.now() - timedelta(minutes=1),
    )
    payment.refresh_from_db()
    Payment.objects.filter(pk=payment.pk).update(gateway_reference="sandbox_pi_x")
    # when
    consult_sla_expire_due()
    payment_settle(payment_id=payment.pk)
    # then
    payment.refresh_from_db()
    assert payment.state == Payment.State.CANCELED


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
async def test_asker_is_told_on_the_socket_when_the_consult_expires(ws, stripe_on):
    # given
    consult, asker = await sync_to_async(_overdue_for_new_asker)(stripe_on)
    sock = await ws(asker)
    connected = await receive_until(sock, "consult.updated")  # re-sent on connect
    assert connected["consult"]["state"] == "active"
    # when
    await sync_to_async(consult_sla_expire_due)()
    # then
    frame = await receive_until(sock, "consult.updated")
    assert frame["consult"]["id"] == consult.pk
    assert frame["consult"]["state"] == "expired"


def _overdue_for_new_asker(fake):
    from tests.factories import AskerFactory

    asker = AskerFactory()
    consult, _ = authorised_active_consult(fake, asker)
    return consult, asker


def reply_racing_sweep(*, lawyer, conversation_id: int, client_id: str) -> list[bool]:
    """The lawyer's first reply and the SLA sweep, released at the same instant. Returns
    [True] when the reply was stored, [False] when it was refused as expired."""
    barrier = threading.Barrier(2)
    replied: list[bool] = []

    def reply() -> None:
        try:
            barrier.wait()
            message_send(
                sender=lawyer,
                conversation_id=conversation_id,
                client_id=client_id,
                body="您好，我来看看您的问题。",
            )
            replied.append(True)
        except ConsultExpired:
            replied.append(False)
        finally:
            connections.close_all()

    def sweep() -> None:
        try:
            barrier.wait()
            consult_sla_expire_due()
        finally:
            connections.close_all()

    threads = [threading.Thread(target=reply), threading.Thread(target=sweep)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    return replied


RACE_ROUNDS = 30


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_first_reply_racing_the_deadline_ends_captured_or_canceled_never_both(
    stripe_on, celery_test_worker
):
    from tests.factories import AskerFactory

    asker = AskerFactory()
    lawyer = LawyerProfileFactory(capacity=20).user
    outcomes: dict[str, int] = {"captured": 0, "canceled": 0}
    for round_no in range(RACE_ROUNDS):
        # given a consult whose deadline is now, and both sides starting together
        consult, payment = authorised_active_consult(stripe_on, asker, lawyer)
        # when
        replied = reply_racing_sweep(
            lawyer=lawyer, conversation_id=consult.conversation_id, client_id=f"race-{round_no}"
        )
        final = wait_for_final_state(payment)
        # then exactly one of the two happened, everywhere
        consult.refresh_from_db()
        reference = payment.gateway_reference
        captures = stripe_on.operations_of("capture").count(reference)
        cancels = stripe_on.operations_of("cancel").count(reference)
        stored = Message.objects.filter(sender=lawyer, client_id=f"race-{round_no}").exists()
        if final == Payment.State.CAPTURED:
            assert replied == [True] and stored
            assert consult.state == Consult.State.ACTIVE and consult.first_reply_at
            assert (captures, cancels) == (1, 0)
            assert payment.ledger_entries.count() == 2
        else:
            assert replied == [False] and not stored
            assert consult.state == Consult.State.EXPIRED and consult.first_reply_at is None
            assert (captures, cancels) == (0, 1)
            assert not payment.ledger_entries.exists()
        outcomes[final] += 1
    assert sum(outcomes.values()) == RACE_ROUNDS


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_capture_that_times_out_is_retried_by_the_task_and_captures_once(
    stripe_on, settings, celery_test_worker
):
    from tests.factories import AskerFactory

    # given a Stripe that captures but answers only after the client gave up, once
    settings.STRIPE_TIMEOUT_SECONDS = 0.5
    consult, payment = authorised_active_consult(stripe_on, AskerFactory(), overdue=False)
    stripe_on.hold_answer("/capture", seconds=1.5)
    # when the lawyer's first reply decides the capture
    message_send(
        sender=consult.lawyer, conversation_id=consult.conversation_id, client_id="t", body="您好"
    )
    # then
    assert wait_for_final_state(payment) == Payment.State.CAPTURED
    attempts = stripe_on.requests_to("/capture")
    assert len(attempts) == 2
    assert {a.idempotency_key for a in attempts} == {payment.operation_key("capture")}
    assert stripe_on.operations_of("capture") == [payment.gateway_reference]
    assert payment.ledger_entries.count() == 2
