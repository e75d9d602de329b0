from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from billing.errors import PaymentNotRefundable
from billing.models import LedgerEntry, Payment
from billing.services import (
    payment_capture_on_first_reply,
    payment_prepare,
    payment_refund,
    payment_sandbox_authorize,
    payment_settle,
    payment_sync,
    payments_to_resettle,
)
from config.errors import NotFound
from marketplace.models import Consult, Question
from messaging.models import Message
from messaging.services import message_send
from tests.billing.factories import make_active, paid_consult
from tests.factories import LawyerProfileFactory, category, city


@pytest.fixture
def question(asker) -> Question:
    return Question.objects.create(
        asker=asker,
        title="工资拖欠三个月",
        body="公司拖欠工资怎么办",
        category=category(),
        city=city(),
    )


# --- creating a paid consult --------------------------------------------------------------------
def test_paid_consult_opens_a_sandbox_payment_at_the_frozen_price(api, asker, question, sandbox_on):
    # when
    response = api(asker).post(
        "consults", {"question": question.pk, "paid": True, "price": 4900, "currency": "CNY"}
    )
    # then
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["state"] == "pending_payment"
    assert body["payment"] | {"id": 0} == {
        "id": 0,
        "state": "requires_payment",
        "amount": 4900,
        "currency": "CNY",
        "gateway": "sandbox",
    }


def test_named_lawyer_at_another_price_is_409_price_changed_and_nothing_is_created(
    api, asker, question
):
    # given
    lawyer = LawyerProfileFactory(price=9900).user
    # when
    response = api(asker).post(
        "consults", {"question": question.pk, "lawyer": lawyer.pk, "paid": True, "price": 4900}
    )
    # then
    assert response.status_code == 409
    assert response.json()["code"] == "price_changed"
    assert not Consult.objects.exists() and not Payment.objects.exists()


def test_open_consult_below_the_minimum_price_is_refused(api, asker, question, settings):
    settings.CONSULT_PRICE_MIN = 1000
    response = api(asker).post("consults", {"question": question.pk, "paid": True, "price": 999})
    assert response.status_code == 422
    assert response.json()["code"] == "invalid_price"


def test_lawyer_profile_price_must_be_whole_minor_units_in_a_supported_currency(api, db):
    lawyer = LawyerProfileFactory().user
    assert api(lawyer).put("lawyer/profile", {"price": 12.5}).status_code == 422
    response = api(lawyer).put("lawyer/profile", {"price": 3000, "currency": "XYZ"})
    assert response.status_code == 422
    assert response.json()["code"] == "invalid_currency"
    assert api(lawyer).put("lawyer/profile", {"price": 3000}).status_code == 200
    lawyer.lawyer_profile.refresh_from_db()
    assert (lawyer.lawyer_profile.price, lawyer.lawyer_profile.currency) == (3000, "CNY")


# --- the sandbox card step ----------------------------------------------------------------------
def test_sandbox_authorize_moves_the_consult_into_matching(api, asker, sandbox_on):
    # given
    consult, payment = paid_consult(asker=asker)
    # when
    response = api(asker).post(f"payments/{payment.pk}/sandbox-authorize")
    # then
    assert response.status_code == 200
    assert response.json()["state"] == "authorized"
    consult.refresh_from_db()
    assert consult.state == Consult.State.QUEUED
    assert consult.sla_deadline is not None


def test_sandbox_authorize_twice_is_one_authorisation(asker, sandbox_on):
    consult, payment = paid_consult(asker=asker)
    payment_sandbox_authorize(payment_id=payment.pk, user=asker)
    again = payment_sandbox_authorize(payment_id=payment.pk, user=asker)
    assert again.state == Payment.State.AUTHORIZED


def test_sandbox_authorize_by_someone_else_is_404(api, asker, other_asker, sandbox_on):
    _, payment = paid_consult(asker=asker)
    response = api(other_asker).post(f"payments/{payment.pk}/sandbox-authorize")
    assert response.status_code == 404
    payment.refresh_from_db()
    assert payment.state == Payment.State.REQUIRES_PAYMENT


def test_sandbox_authorize_is_refused_when_stripe_is_configured(api, asker, stripe_on):
    # given
    _, payment = paid_consult(asker=asker)
    # when
    response = api(asker).post(f"payments/{payment.pk}/sandbox-authorize")
    # then
    assert response.status_code == 409
    assert response.json()["code"] == "sandbox_disabled"
    payment.refresh_from_db()
    assert payment.state == Payment.State.REQUIRES_PAYMENT


# --- Stripe: checkout and the gateway's own answer ---------------------------------------------
def test_checkout_opens_one_intent_and_hands_out_its_client_secret(api, asker, stripe_on):
    # given
    _, payment = paid_consult(asker=asker)
    # when
    first = api(asker).post(f"payments/{payment.pk}/checkout").json()
    second = api(asker).post(f"payments/{payment.pk}/checkout").json()
    # then
    assert first["publishable_key"] == "pk_test_lawline"
    assert first["client_secret"] == second["client_secret"]
    assert first["client_secret"].startswith("pi_")
    assert len(stripe_on.operations_of("create")) == 1
    (create,) = stripe_on.requests_to("/v1/payment_intents")
    assert create.idempotency_key == payment.operation_key("create")


def test_sync_of_an_intent_for_another_amount_is_409_and_moves_nothing(api, asker, stripe_on):
    # given an intent whose amount differs from the payment's
    consult, payment = paid_consult(asker=asker)
    payment = payment_prepare(payment=payment)
    stripe_on.intents[payment.gateway_reference]["amount"] = payment.amount + 1
    stripe_on.authorize(payment.gateway_reference)
    # when
    response = api(asker).post(f"payments/{payment.pk}/sync")
    # then
    assert response.status_code == 409, response.content
    assert response.json()["code"] == "gateway_refused"
    payment.refresh_from_db()
    assert payment.state == Payment.State.REQUIRES_PAYMENT


def test_browser_cannot_authorise_only_stripes_answer_does(api, asker, stripe_on):
    # given an intent the card step has not completed
    consult, payment = paid_consult(asker=asker)
    payment = payment_prepare(payment=payment)
    # when the page asks the server to check before Stripe authorised anything
    assert payment_sync(payment_id=payment.pk, user=asker).state == Payment.State.REQUIRES_PAYMENT
    # and after Stripe did
    stripe_on.authorize(payment.gateway_reference)
    synced = api(asker).post(f"payments/{payment.pk}/sync").json()
    # then
    assert synced["state"] == "authorized"
    consult.refresh_from_db()
    assert consult.state == Consult.State.QUEUED


# --- capture at the first reply ------------------------------------------------------------------
@pytest.fixture
def active_stripe_consult(asker, stripe_on) -> tuple[Consult, Payment]:
    consult, payment = paid_consult(asker=asker)
    payment = payment_prepare(payment=payment)
    stripe_on.authorize(payment.gateway_reference)
    payment_sync(payment_id=payment.pk, user=asker)
    consult = make_active(Consult.objects.get(pk=consult.pk))
    payment.refresh_from_db()
    return consult, payment


def test_lawyers_first_reply_schedules_the_capture_after_commit(
    active_stripe_consult, django_capture_on_commit_callbacks
):
    # given
    consult, payment = active_stripe_consult
    # when
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        message_send(
            sender=consult.lawyer,
            conversation_id=consult.conversation_id,
            client_id="first",
            body="您好，请把借条拍照发我。",
        )
    # then the decision is recorded with the reply, and a task is queued for after commit
    payment.refresh_from_db()
    assert payment.settle_action == "capture" and payment.state == "authorized"
    assert callbacks


def test_askers_message_captures_nothing(active_stripe_consult, django_capture_on_commit_callbacks):
    consult, payment = active_stripe_consult
    message_send(
        sender=consult.asker, conversation_id=consult.conversation_id, client_id="q", body="在吗"
    )
    payment.refresh_from_db()
    assert payment.settle_action == ""


def test_settle_captures_once_with_the_capture_key_and_writes_the_ledger(
    active_stripe_consult, stripe_on
):
    # given
    consult, payment = active_stripe_consult
    payment_capture_on_first_reply(consult=consult)
    # when settled twice (a redelivered task)
    payment_settle(payment_id=payment.pk)
    payment_settle(payment_id=payment.pk)
    # then
    payment.refresh_from_db()
    assert payment.state == Payment.State.CAPTURED
    assert stripe_on.operations_of("capture") == [payment.gateway_reference]
    assert {r.idempotency_key for r in stripe_on.requests_to("/capture")} == {
        payment.operation_key("capture")
    }
    entries = {e.kind: e for e in LedgerEntry.objects.filter(payment=payment)}
    assert entries["platform_fee"].amount == 980
    assert entries["lawyer_earning"].amount == 3920
    assert entries["lawyer_earning"].lawyer_id == consult.lawyer_id


# --- refunds -----------------------------------------------------------------------------------
@pytest.fixture
def captured_stripe_consult(active_stripe_consult) -> tuple[Consult, Payment]:
    consult, payment = active_stripe_consult
    message_send(
        sender=consult.lawyer, conversation_id=consult.conversation_id, client_id="r", body="您好"
    )
    payment_settle(payment_id=payment.pk)
    payment.refresh_from_db()
    consult.refresh_from_db()
    return consult, payment


def test_staff_refund_reverses_the_ledger_refunds_the_consult_and_tells_the_asker(
    api, staff, captured_stripe_consult, stripe_on
):
    # given
    consult, payment = captured_stripe_consult
    # when
    response = api(staff).post(f"admin/payments/{payment.pk}/refund", {"reason": "投诉成立"})
    # then
    assert response.status_code == 200
    assert response.json()["state"] == "refunded"
    consult.refresh_from_db()
    assert consult.state == Consult.State.REFUNDED
    assert sum(LedgerEntry.objects.filter(payment=payment).values_list("amount", flat=True)) == 0
    assert stripe_on.operations_of("refund") == [payment.gateway_reference]
    (refund,) = stripe_on.requests_to("/v1/refunds")
    assert refund.idempotency_key == payment.operation_key("refund")
    notice = Message.objects.get(sender__isnull=True, notice__kind="refund_done")
    assert notice.conversation.participants.get().user_id == consult.asker_id


def test_refund_twice_refunds_once(staff, captured_stripe_consult, stripe_on):
    _, payment = captured_stripe_consult
    payment_refund(payment_id=payment.pk, staff=staff)
    payment_refund(payment_id=payment.pk, staff=staff)
    assert len(stripe_on.operations_of("refund")) == 1
    assert LedgerEntry.objects.filter(payment=payment, is_reversal=True).count() == 2


def test_refund_by_non_staff_is_404(api, asker, lawyer, captured_stripe_consult):
    _, payment = captured_stripe_consult
    for user in (asker, lawyer):
        assert api(user).post(f"admin/payments/{payment.pk}/refund").status_code == 404
    payment.refresh_from_db()
    assert payment.state == Payment.State.CAPTURED


def test_an_authorised_payment_cannot_be_refunded(staff, active_stripe_consult):
    _, payment = active_stripe_consult
    with pytest.raises(PaymentNotRefundable):
        payment_refund(payment_id=payment.pk, staff=staff)


def test_payment_is_visible_to_its_asker_and_lawyer_only(api, other_asker, active_stripe_consult):
    consult, payment = active_stripe_consult
    assert api(consult.asker).get(f"payments/{payment.pk}").json()["amount"] == 4900
    assert api(consult.lawyer).get(f"payments/{payment.pk}").status_code == 200
    assert api(other_asker).get(f"payments/{payment.pk}").status_code == 404


def test_unknown_payment_is_404(asker, db):
    with pytest.raises(NotFound):
        payment_sync(payment_id=999999, user=asker)


# --- lost tasks and withdrawn consults ------------------------------------------------------------
def test_decided_capture_left_undone_is_picked_up_for_another_try(active_stripe_consult, settings):
    # given a capture decided long ago whose task never ran
    consult, payment = active_stripe_consult
    payment_capture_on_first_reply(consult=consult)
    settings.BILLING_SETTLE_RETRY_AFTER_SECONDS = 120
    Payment.objects.filter(pk=payment.pk).update(
        settle_requested_at=timezone.now() - timedelta(minutes=5)
    )
    # when
    due = payments_to_resettle()
    # then
    assert due == [payment.pk]
    payment_settle(payment_id=payment.pk)
    assert payments_to_resettle() == []


def test_asker_withdrawing_a_paid_consult_releases_the_authorisation(api, asker, stripe_on):
    # given a paid consult still looking for a lawyer
    consult, payment = paid_consult(asker=asker)
    payment = payment_prepare(payment=payment)
    stripe_on.authorize(payment.gateway_reference)
    payment_sync(payment_id=payment.pk, user=asker)
    # when
    response = api(asker).post(f"consults/{consult.pk}/close")
    # then
    assert response.status_code == 200, response.json()
    payment.refresh_from_db()
    assert payment.settle_action == "cancel"
    payment_settle(payment_id=payment.pk)
    payment.refresh_from_db()
    assert payment.state == Payment.State.CANCELED
    assert stripe_on.operations_of("cancel") == [payment.gateway_reference]


def test_active_consult_closed_before_the_first_reply_releases_the_authorisation(
    api, asker, active_stripe_consult, stripe_on
):
    # given an active consult whose lawyer has not replied yet
    consult, payment = active_stripe_consult
    # when the asker closes it
    response = api(asker).post(f"consults/{consult.pk}/close")
    # then the payment is cancelled, not left authorised with no one to release it
    assert response.status_code == 200, response.json()
    payment.refresh_from_db()
    assert payment.settle_action == "cancel"
    payment_settle(payment_id=payment.pk)
    payment.refresh_from_db()
    assert payment.state == Payment.State.CANCELED
    assert stripe_on.operations_of("cancel") == [payment.gateway_reference]
