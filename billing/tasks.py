"""Billing's tasks: thin wrappers over services, ids only as arguments, idempotent."""

from __future__ import annotations

import logging

from celery import shared_task

from billing.gateways.base import GatewayError

logger = logging.getLogger(__name__)


@shared_task(
    name="billing.payment_settle",
    bind=True,
    acks_late=True,
    max_retries=8,
    time_limit=60,
    soft_time_limit=50,
)
def payment_settle_task(self, payment_id: int, **_kwargs: object) -> str:
    """Capture or cancel at the gateway, as decided. A retry sends the same idempotency key,
    so a capture whose answer was lost is one capture, never two."""
    from billing.services import payment_settle

    try:
        payment = payment_settle(payment_id=payment_id)
    except GatewayError as exc:
        if not exc.retryable:
            logger.error("payment %s: settle refused by the gateway: %s", payment_id, exc.code)
            raise
        # 1, 2, 4 ... 60 s; beat's resettle picks it up after that
        raise self.retry(exc=exc, countdown=min(2**self.request.retries, 60)) from exc
    return payment.state


@shared_task(name="billing.payments_resettle", acks_late=True, time_limit=60)
def payments_resettle_task(**_kwargs: object) -> int:
    """Beat: re-drive captures and cancels decided a while ago that have not happened."""
    from billing.services import payments_to_resettle

    ids = payments_to_resettle()
    for payment_id in ids:
        payment_settle_task.delay(payment_id)
    return len(ids)
