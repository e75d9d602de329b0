"""The Stripe gateway through the real stripe SDK against the local fake Stripe."""

from __future__ import annotations

import pytest

from billing.gateways.base import (
    AUTHORIZED,
    CANCELED,
    CAPTURED,
    REQUIRES_PAYMENT,
    CreatePaymentRequest,
    GatewayError,
    PaymentOperationRequest,
)
from billing.gateways.stripe import StripeGateway


def gateway_for(fake, **kwargs) -> StripeGateway:
    options = {"timeout": 5.0, "max_network_retries": 0} | kwargs
    return StripeGateway(secret_key="sk_test_lawline", api_base=fake.url, **options)


def create(gateway: StripeGateway, key: str = "pay-1-create"):
    return gateway.create_payment(
        CreatePaymentRequest(
            payment_id=1, consult_id=7, amount=4900, currency="CNY", idempotency_key=key
        )
    )


def test_create_opens_a_manual_capture_intent_with_the_idempotency_key(fake_stripe):
    # when
    result = create(gateway_for(fake_stripe))
    # then
    (request,) = fake_stripe.requests_to("/v1/payment_intents")
    assert request.idempotency_key == "pay-1-create"
    assert request.params["capture_method"] == "manual"
    assert request.params["amount"] == "4900"
    assert request.params["currency"] == "cny"
    assert request.params["metadata[lawline_payment]"] == "1"
    assert result.state == REQUIRES_PAYMENT
    assert result.client_secret.startswith(result.reference)
    assert (result.amount, result.currency) == (4900, "CNY")


def test_create_twice_with_one_key_is_one_intent(fake_stripe):
    gateway = gateway_for(fake_stripe)
    first, second = create(gateway), create(gateway)
    assert first.reference == second.reference
    assert fake_stripe.operations_of("create") == [first.reference]


def test_capture_and_cancel_send_their_own_keys(fake_stripe):
    # given two authorised intents
    gateway = gateway_for(fake_stripe)
    one, two = create(gateway, "k-1"), create(gateway, "k-2")
    fake_stripe.authorize(one.reference)
    fake_stripe.authorize(two.reference)
    # when
    captured = gateway.capture_payment(
        PaymentOperationRequest(reference=one.reference, idempotency_key="k-1-capture")
    )
    canceled = gateway.cancel_payment(
        PaymentOperationRequest(
            reference=two.reference, idempotency_key="k-2-cancel", reason="abandoned"
        )
    )
    # then
    assert captured.state == CAPTURED and canceled.state == CANCELED
    assert [r.idempotency_key for r in fake_stripe.requests_to("/capture")] == ["k-1-capture"]
    (cancel,) = fake_stripe.requests_to("/cancel")
    assert cancel.idempotency_key == "k-2-cancel"
    assert cancel.params["cancellation_reason"] == "abandoned"


def test_capture_whose_answer_is_lost_is_retried_with_the_same_key_and_captures_once(fake_stripe):
    # given an authorised intent, and a capture answer that comes back after the client gave up
    gateway = gateway_for(fake_stripe, timeout=0.5)
    intent = create(gateway)
    fake_stripe.authorize(intent.reference)
    fake_stripe.hold_answer("/capture", seconds=1.5)
    request = PaymentOperationRequest(reference=intent.reference, idempotency_key="pay-1-capture")
    # when
    with pytest.raises(GatewayError) as timed_out:
        gateway.capture_payment(request)
    result = gateway.capture_payment(request)
    # then
    assert timed_out.value.retryable
    assert result.state == CAPTURED
    attempts = fake_stripe.requests_to("/capture")
    assert [a.idempotency_key for a in attempts] == ["pay-1-capture", "pay-1-capture"]
    assert [a.replayed for a in attempts] == [False, True]
    assert fake_stripe.operations_of("capture") == [intent.reference]


def test_sdk_network_retries_reuse_the_idempotency_key(fake_stripe):
    # given a gateway that lets the SDK retry, and one 500 from Stripe
    gateway = gateway_for(fake_stripe, max_network_retries=2)
    intent = create(gateway)
    fake_stripe.authorize(intent.reference)
    fake_stripe.fail("/capture", status=500)
    # when
    result = gateway.capture_payment(
        PaymentOperationRequest(reference=intent.reference, idempotency_key="pay-1-capture")
    )
    # then
    assert result.state == CAPTURED
    keys = {a.idempotency_key for a in fake_stripe.requests_to("/capture")}
    assert keys == {"pay-1-capture"}
    assert len(fake_stripe.operations_of("capture")) == 1


def test_capture_of_an_already_captured_intent_reports_its_state(fake_stripe):
    # given an intent captured by an earlier call under another key
    gateway = gateway_for(fake_stripe)
    intent = create(gateway)
    fake_stripe.authorize(intent.reference)
    gateway.capture_payment(
        PaymentOperationRequest(reference=intent.reference, idempotency_key="a")
    )
    # when
    again = gateway.capture_payment(
        PaymentOperationRequest(reference=intent.reference, idempotency_key="b")
    )
    # then
    assert again.state == CAPTURED
    assert len(fake_stripe.operations_of("capture")) == 1


def test_retrieve_maps_requires_capture_to_authorized(fake_stripe):
    gateway = gateway_for(fake_stripe)
    intent = create(gateway)
    fake_stripe.authorize(intent.reference)
    assert gateway.retrieve_payment(intent.reference).state == AUTHORIZED


def test_refund_of_a_captured_intent(fake_stripe):
    gateway = gateway_for(fake_stripe)
    intent = create(gateway)
    fake_stripe.authorize(intent.reference)
    gateway.capture_payment(
        PaymentOperationRequest(reference=intent.reference, idempotency_key="c")
    )
    # when
    refund = gateway.refund_payment(
        PaymentOperationRequest(
            reference=intent.reference,
            idempotency_key="pay-1-refund",
            amount=4900,
            reason="requested_by_customer",
        )
    )
    # then
    assert refund.succeeded and refund.amount == 4900
    (request,) = fake_stripe.requests_to("/v1/refunds")
    assert request.idempotency_key == "pay-1-refund"
    assert request.params["payment_intent"] == intent.reference


def test_refused_operation_is_not_retryable(fake_stripe):
    gateway = gateway_for(fake_stripe)
    with pytest.raises(GatewayError) as refused:
        gateway.refund_payment(
            PaymentOperationRequest(reference="pi_missing", idempotency_key="x", amount=1)
        )
    assert not refused.value.retryable


def test_outage_is_retryable(fake_stripe):
    gateway = gateway_for(fake_stripe)
    fake_stripe.fail("/v1/payment_intents", status=503)
    with pytest.raises(GatewayError) as outage:
        create(gateway)
    assert outage.value.retryable
