from __future__ import annotations

import json
import threading
import time

import pytest
from django.db import connection, connections
from django.test import Client

from billing.models import GatewayEvent, LedgerEntry, Payment
from billing.services import payment_prepare
from marketplace.models import Consult
from tests.billing.conftest import WEBHOOK_URL, sign, stripe_event
from tests.billing.factories import make_active, paid_consult

AUTHORISED = "payment_intent.amount_capturable_updated"
SUCCEEDED = "payment_intent.succeeded"
CANCELED = "payment_intent.canceled"


@pytest.fixture
def stripe_payment(stripe_on, asker) -> Payment:
    """A paid consult whose PaymentIntent is open at (fake) Stripe, waiting for the card."""
    _, payment = paid_consult(asker=asker)
    return payment_prepare(payment=payment)


def authorised_event(fake, payment: Payment, **kwargs) -> dict:
    return stripe_event(AUTHORISED, fake.authorize(payment.gateway_reference), **kwargs)


def test_verified_authorisation_moves_payment_and_consult_into_matching(
    stripe_payment, stripe_on, post_webhook
):
    # when
    response = post_webhook(authorised_event(stripe_on, stripe_payment))
    # then
    assert response.status_code == 200
    stripe_payment.refresh_from_db()
    assert stripe_payment.state == Payment.State.AUTHORIZED
    assert Consult.objects.get(pk=stripe_payment.consult_id).state == Consult.State.QUEUED
    event = GatewayEvent.objects.get()
    assert (event.status, event.attempts, event.payment_id) == ("processed", 1, stripe_payment.pk)


def _tampered(payload: bytes) -> tuple[bytes, str]:
    return payload.replace(b"requires_capture", b"succeeded"), sign(payload)


@pytest.mark.parametrize(
    "case", ["no_secret", "missing_header", "wrong_secret", "tampered_body", "stale_timestamp"]
)
def test_unverifiable_webhook_answers_400_and_stores_nothing(
    case, stripe_payment, stripe_on, settings, post_webhook
):
    # given
    payload = json.dumps(authorised_event(stripe_on, stripe_payment)).encode()
    body, signature = payload, sign(payload)
    if case == "no_secret":
        settings.STRIPE_WEBHOOK_SECRET = ""
    elif case == "missing_header":
        signature = ""
    elif case == "wrong_secret":
        signature = sign(payload, secret="whsec_someone_else")
    elif case == "tampered_body":
        body, signature = _tampered(payload)
    elif case == "stale_timestamp":
        signature = sign(payload, timestamp=int(time.time()) - 301)
    # when
    response = post_webhook({}, body=body, signature=signature)
    # then
    assert response.status_code == 400
    assert response.json()["code"]
    assert not GatewayEvent.objects.exists()
    stripe_payment.refresh_from_db()
    assert stripe_payment.state == Payment.State.REQUIRES_PAYMENT


def test_same_event_twice_is_stored_and_handled_once(stripe_payment, stripe_on, post_webhook):
    # given
    event = authorised_event(stripe_on, stripe_payment)
    # when
    first, second = post_webhook(event), post_webhook(event)
    # then
    assert (first.status_code, second.status_code) == (200, 200)
    stored = GatewayEvent.objects.get()
    assert stored.attempts == 1
    assert Consult.objects.get(pk=stripe_payment.consult_id).state == Consult.State.QUEUED


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_same_event_delivered_concurrently_is_handled_once(stripe_on, asker):
    # given
    _, payment = paid_consult(asker=asker)
    payment = payment_prepare(payment=payment)
    event = authorised_event(stripe_on, payment)
    payload = json.dumps(event).encode()
    barrier = threading.Barrier(4)
    statuses: list[int] = []

    def deliver() -> None:
        try:
            barrier.wait()
            response = Client().post(
                WEBHOOK_URL,
                payload,
                content_type="application/json",
                HTTP_STRIPE_SIGNATURE=sign(payload),
            )
            statuses.append(response.status_code)
        finally:
            connections.close_all()

    # when
    threads = [threading.Thread(target=deliver) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    # then
    assert statuses == [200, 200, 200, 200]
    stored = GatewayEvent.objects.get(event_id=event["id"])
    assert (stored.status, stored.attempts) == ("processed", 1)
    payment.refresh_from_db()
    assert payment.state == Payment.State.AUTHORIZED
    assert Consult.objects.get(pk=payment.consult_id).state == Consult.State.QUEUED


def test_late_authorisation_after_capture_changes_nothing(stripe_payment, stripe_on, post_webhook):
    # given an authorised, then captured payment
    authorised = authorised_event(stripe_on, stripe_payment)
    post_webhook(authorised)
    make_active(Consult.objects.get(pk=stripe_payment.consult_id))
    captured = dict(authorised["data"]["object"], status="succeeded", amount_received=4900)
    assert post_webhook(stripe_event(SUCCEEDED, captured)).status_code == 200
    # when an older authorisation snapshot arrives last (another event id)
    late = stripe_event(AUTHORISED, authorised["data"]["object"])
    response = post_webhook(late)
    # then
    assert response.status_code == 200
    stripe_payment.refresh_from_db()
    assert stripe_payment.state == Payment.State.CAPTURED
    assert LedgerEntry.objects.filter(payment=stripe_payment).count() == 2
    assert GatewayEvent.objects.get(event_id=late["id"]).error == "no change"


def test_authorisation_arriving_after_cancel_stays_canceled(
    stripe_payment, stripe_on, post_webhook
):
    # given
    intent = stripe_on.authorize(stripe_payment.gateway_reference)
    canceled = dict(intent, status="canceled")
    # when the cancel is delivered first, then the older authorisation
    post_webhook(stripe_event(CANCELED, canceled))
    post_webhook(stripe_event(AUTHORISED, intent))
    # then
    stripe_payment.refresh_from_db()
    assert stripe_payment.state == Payment.State.CANCELED
    assert Consult.objects.get(pk=stripe_payment.consult_id).state == Consult.State.PENDING_PAYMENT


@pytest.fixture
def ledger_inserts_fail(db):
    """A real database error on every ledger insert (a trigger), removable mid-test."""
    with connection.cursor() as cursor:
        cursor.execute(
            """
            CREATE OR REPLACE FUNCTION billing_test_refuse_ledger() RETURNS trigger AS $$
            BEGIN RAISE EXCEPTION 'simulated ledger failure'; END $$ LANGUAGE plpgsql;
            CREATE TRIGGER billing_test_refuse_ledger BEFORE INSERT ON billing_ledgerentry
            FOR EACH ROW EXECUTE FUNCTION billing_test_refuse_ledger();
            """
        )

    def heal() -> None:
        with connection.cursor() as cursor:
            cursor.execute(
                "DROP TRIGGER IF EXISTS billing_test_refuse_ledger ON billing_ledgerentry;"
                "DROP FUNCTION IF EXISTS billing_test_refuse_ledger();"
            )

    yield heal
    heal()


def test_handler_failure_rolls_back_answers_500_and_the_retry_succeeds(
    stripe_payment, stripe_on, post_webhook, ledger_inserts_fail
):
    # given an authorised payment of an active consult
    post_webhook(authorised_event(stripe_on, stripe_payment))
    make_active(Consult.objects.get(pk=stripe_payment.consult_id))
    intent = dict(stripe_on.intents[stripe_payment.gateway_reference], status="succeeded")
    event = stripe_event(SUCCEEDED, intent)
    # when the handler fails
    failed = post_webhook(event)
    # then nothing of it is kept but the event's failure
    assert failed.status_code == 500
    stripe_payment.refresh_from_db()
    assert stripe_payment.state == Payment.State.AUTHORIZED
    assert not LedgerEntry.objects.exists()
    stored = GatewayEvent.objects.get(event_id=event["id"])
    assert stored.status == "failed" and "simulated ledger failure" in stored.error
    # when Stripe retries after the cause is gone
    ledger_inserts_fail()
    retried = post_webhook(event)
    # then
    assert retried.status_code == 200
    stripe_payment.refresh_from_db()
    assert stripe_payment.state == Payment.State.CAPTURED
    assert LedgerEntry.objects.filter(payment=stripe_payment).count() == 2
    stored.refresh_from_db()
    assert (stored.status, stored.attempts) == ("processed", 2)


def test_event_of_unknown_type_is_stored_as_ignored(stripe_on, post_webhook, db):
    response = post_webhook(stripe_event("customer.created", {"id": "cus_1", "object": "customer"}))
    assert response.status_code == 200
    assert GatewayEvent.objects.get().status == "ignored"


def test_intent_of_no_payment_with_a_non_number_in_its_metadata_is_ignored(
    stripe_on, post_webhook, db
):
    intent = {"id": "pi_unknown", "object": "payment_intent", "metadata": {"lawline_payment": "²"}}
    response = post_webhook(stripe_event(AUTHORISED, intent))
    assert response.status_code == 200
    assert GatewayEvent.objects.get().status == "ignored"


def test_event_with_another_amount_does_not_authorise(stripe_payment, stripe_on, post_webhook):
    intent = dict(stripe_on.authorize(stripe_payment.gateway_reference), amount=1)
    post_webhook(stripe_event(AUTHORISED, intent))
    stripe_payment.refresh_from_db()
    assert stripe_payment.state == Payment.State.REQUIRES_PAYMENT
    assert GatewayEvent.objects.get().status == "ignored"
