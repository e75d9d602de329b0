"""Stripe PaymentIntents with manual capture. The only module that imports `stripe`.

Authorised when the asker's card step succeeds (Stripe status `requires_capture`), captured at
the lawyer's first reply, cancelled at the SLA deadline, refunded by staff. Every call that
changes money sends an idempotency key derived from the payment and the operation, so the
SDK's own network retries and our task retries reach Stripe as one operation.
"""

from __future__ import annotations

from typing import Any

import stripe
from django.conf import settings

from billing.gateways.base import (
    AUTHORIZED,
    CANCELED,
    CAPTURED,
    REQUIRES_PAYMENT,
    CreatePaymentRequest,
    GatewayError,
    PaymentOperationRequest,
    PaymentResult,
    RefundResult,
)

# PaymentIntent status → our payment state
STATUS_TO_STATE = {
    "requires_payment_method": REQUIRES_PAYMENT,
    "requires_confirmation": REQUIRES_PAYMENT,
    "requires_action": REQUIRES_PAYMENT,
    "processing": REQUIRES_PAYMENT,
    "requires_capture": AUTHORIZED,
    "succeeded": CAPTURED,
    "canceled": CANCELED,
}

SignatureVerificationError = stripe.SignatureVerificationError


def state_of_intent(status: str) -> str:
    return STATUS_TO_STATE.get(status, REQUIRES_PAYMENT)


def intent_result(intent: Any) -> PaymentResult:
    """From an SDK PaymentIntent or the plain dict of a webhook event."""
    if isinstance(intent, stripe.StripeObject):
        intent = intent.to_dict()
    status = str(intent["status"])
    return PaymentResult(
        reference=str(intent["id"]),
        state=state_of_intent(status),
        amount=int(intent["amount"]),
        currency=str(intent["currency"]).upper(),
        client_secret=str(intent.get("client_secret") or ""),
        raw_status=status,
    )


def construct_event(payload: bytes, signature_header: str | None, secret: str) -> Any:
    """Verify a webhook's signature and timestamp; raises SignatureVerificationError or
    ValueError (not JSON)."""
    return stripe.Webhook.construct_event(
        payload,
        signature_header,
        secret,
        tolerance=settings.STRIPE_WEBHOOK_TOLERANCE_SECONDS,
    )


def _gateway_error(exc: stripe.StripeError) -> GatewayError:
    retryable = isinstance(exc, stripe.APIConnectionError | stripe.RateLimitError) or (
        isinstance(exc, stripe.APIError) and (exc.http_status or 500) >= 500
    )
    if isinstance(exc, stripe.IdempotencyError):
        retryable = False
    code = getattr(exc, "code", None) or type(exc).__name__
    # the SDK's message may echo request details; keep only what explains the failure
    message = f"stripe {type(exc).__name__}: {getattr(exc, 'user_message', None) or code}"
    return GatewayError(message, retryable=retryable, code=str(code))


class StripeGateway:
    name = "stripe"

    def __init__(
        self,
        *,
        secret_key: str,
        api_base: str | None = None,
        timeout: float | None = None,
        max_network_retries: int | None = None,
    ):
        self.client = stripe.StripeClient(
            secret_key,
            base_addresses={"api": api_base or settings.STRIPE_API_BASE},
            max_network_retries=(
                settings.STRIPE_MAX_NETWORK_RETRIES
                if max_network_retries is None
                else max_network_retries
            ),
            http_client=stripe.RequestsClient(
                timeout=timeout if timeout is not None else settings.STRIPE_TIMEOUT_SECONDS
            ),
        )

    def create_payment(self, request: CreatePaymentRequest) -> PaymentResult:
        try:
            intent = self.client.v1.payment_intents.create(
                {
                    "amount": request.amount,
                    "currency": request.currency.lower(),
                    "capture_method": "manual",
                    "automatic_payment_methods": {"enabled": True},
                    "description": request.description[:200],
                    "metadata": {
                        "lawline_payment": str(request.payment_id),
                        "lawline_consult": str(request.consult_id),
                    },
                },
                {"idempotency_key": request.idempotency_key},
            )
        except stripe.StripeError as exc:
            raise _gateway_error(exc) from exc
        return intent_result(intent)

    def retrieve_payment(self, reference: str) -> PaymentResult:
        try:
            intent = self.client.v1.payment_intents.retrieve(reference)
        except stripe.StripeError as exc:
            raise _gateway_error(exc) from exc
        return intent_result(intent)

    def capture_payment(self, request: PaymentOperationRequest) -> PaymentResult:
        params: dict[str, Any] = {}
        if request.amount is not None:
            params["amount_to_capture"] = request.amount
        try:
            intent = self.client.v1.payment_intents.capture(
                request.reference,
                params,  # type: ignore[arg-type]
                {"idempotency_key": request.idempotency_key},
            )
        except stripe.InvalidRequestError as exc:
            # already captured (e.g. by an earlier try whose answer was lost): Stripe's word
            # on the intent settles it
            if getattr(exc, "code", None) == "payment_intent_unexpected_state":
                return self.retrieve_payment(request.reference)
            raise _gateway_error(exc) from exc
        except stripe.StripeError as exc:
            raise _gateway_error(exc) from exc
        return intent_result(intent)

    def cancel_payment(self, request: PaymentOperationRequest) -> PaymentResult:
        params: dict[str, Any] = {}
        if request.reason:
            params["cancellation_reason"] = request.reason
        try:
            intent = self.client.v1.payment_intents.cancel(
                request.reference,
                params,  # type: ignore[arg-type]
                {"idempotency_key": request.idempotency_key},
            )
        except stripe.InvalidRequestError as exc:
            if getattr(exc, "code", None) == "payment_intent_unexpected_state":
                return self.retrieve_payment(request.reference)
            raise _gateway_error(exc) from exc
        except stripe.StripeError as exc:
            raise _gateway_error(exc) from exc
        return intent_result(intent)

    def refund_payment(self, request: PaymentOperationRequest) -> RefundResult:
        params: dict[str, Any] = {"payment_intent": request.reference}
        if request.amount is not None:
            params["amount"] = request.amount
        if request.reason:
            params["reason"] = request.reason
        try:
            refund = self.client.v1.refunds.create(
                params,  # type: ignore[arg-type]
                {"idempotency_key": request.idempotency_key},
            )
        except stripe.StripeError as exc:
            raise _gateway_error(exc) from exc
        status = str(refund["status"])
        if status in {"failed", "canceled"}:
            raise GatewayError(f"stripe refund {status}", retryable=False, code=status)
        return RefundResult(
            reference=str(refund["id"]),
            payment_reference=request.reference,
            amount=int(refund["amount"]),
            currency=str(refund["currency"]).upper(),
            # pending refunds complete at Stripe's pace; the money is on its way back
            succeeded=status in {"succeeded", "pending", "requires_action"},
        )
