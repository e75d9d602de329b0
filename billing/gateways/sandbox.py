"""The offline gateway: the default when no Stripe key is set, so the product runs without a
network. It moves no money and keeps no state of its own (the Payment row is the state);
its references derive from the idempotency keys, so a repeated call gives the same answer,
as a real gateway's idempotency would.
"""

from __future__ import annotations

import hashlib

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


def _reference(prefix: str, idempotency_key: str) -> str:
    return f"{prefix}_{hashlib.sha256(idempotency_key.encode()).hexdigest()[:24]}"


class SandboxGateway:
    name = "sandbox"

    def create_payment(self, request: CreatePaymentRequest) -> PaymentResult:
        if request.amount <= 0:
            raise GatewayError("amount must be positive", retryable=False, code="invalid_amount")
        return PaymentResult(
            reference=_reference("sandbox_pi", request.idempotency_key),
            state=REQUIRES_PAYMENT,
            amount=request.amount,
            currency=request.currency,
        )

    def authorize_payment(self, request: PaymentOperationRequest) -> PaymentResult:
        """Stands in for the asker's card step."""
        return self._answer(request, AUTHORIZED)

    def retrieve_payment(self, reference: str) -> PaymentResult:
        raise GatewayError(
            "the sandbox keeps no state; the payment row is authoritative",
            retryable=False,
            code="not_supported",
        )

    def capture_payment(self, request: PaymentOperationRequest) -> PaymentResult:
        return self._answer(request, CAPTURED)

    def cancel_payment(self, request: PaymentOperationRequest) -> PaymentResult:
        return self._answer(request, CANCELED)

    def refund_payment(self, request: PaymentOperationRequest) -> RefundResult:
        return RefundResult(
            reference=_reference("sandbox_re", request.idempotency_key),
            payment_reference=request.reference,
            amount=request.amount or 0,
            currency="",
            succeeded=True,
        )

    def _answer(self, request: PaymentOperationRequest, state: str) -> PaymentResult:
        return PaymentResult(
            reference=request.reference,
            state=state,
            amount=request.amount or 0,
            currency="",
            raw_status=state,
        )
