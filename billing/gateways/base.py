"""What billing asks of a payment provider: plain dataclasses in, plain dataclasses out.

Every call that changes money carries an idempotency key, so a retry after a timeout can never
authorise, capture, cancel or refund twice. Gateways raise `GatewayError` (retryable or not) and
never return a half-known result.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol

# the gateway's word on a payment, in our own vocabulary (billing.models.Payment.State)
REQUIRES_PAYMENT = "requires_payment"
AUTHORIZED = "authorized"
CAPTURED = "captured"
CANCELED = "canceled"
REFUNDED = "refunded"


class GatewayError(Exception):
    """A gateway call that did not succeed. `retryable`: a timeout, a connection error or a
    5xx; the same call with the same idempotency key may succeed later."""

    def __init__(self, message: str, *, retryable: bool, code: str = ""):
        super().__init__(message)
        self.retryable = retryable
        self.code = code


@dataclass(frozen=True)
class CreatePaymentRequest:
    payment_id: int
    consult_id: int
    amount: int
    currency: str
    idempotency_key: str
    description: str = ""


@dataclass(frozen=True)
class PaymentOperationRequest:
    """Capture, cancel, authorise (sandbox) or look up an existing gateway payment."""

    reference: str
    idempotency_key: str
    amount: int | None = None
    reason: str = ""


@dataclass(frozen=True)
class PaymentResult:
    reference: str
    state: str
    amount: int
    currency: str
    # Stripe's client-side card step needs it; the sandbox has none
    client_secret: str = ""
    raw_status: str = ""
    extra: dict = field(default_factory=dict)


@dataclass(frozen=True)
class RefundResult:
    reference: str  # the refund's own id at the gateway
    payment_reference: str
    amount: int
    currency: str
    succeeded: bool


class PaymentGateway(Protocol):
    name: str

    def create_payment(self, request: CreatePaymentRequest) -> PaymentResult:
        """Open a payment waiting for the asker's card (manual capture)."""
        ...

    def retrieve_payment(self, reference: str) -> PaymentResult: ...

    def capture_payment(self, request: PaymentOperationRequest) -> PaymentResult: ...

    def cancel_payment(self, request: PaymentOperationRequest) -> PaymentResult: ...

    def refund_payment(self, request: PaymentOperationRequest) -> RefundResult: ...
