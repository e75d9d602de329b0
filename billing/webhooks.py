"""Stripe webhooks at POST /billing/stripe/webhook.

Verified with `stripe.Webhook.construct_event` (400 and nothing stored otherwise). Each event is
stored once (unique event id) with its handling status; a second delivery of a handled event
does nothing, two at once serialise on the event row, and a handler error rolls the handler's
writes back, marks the event failed and answers 500 so Stripe retries. Handlers come from a
dispatch table; a payment's state only moves forward, so late and out-of-order events end right.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from django.conf import settings
from django.db import transaction
from django.http import HttpRequest, JsonResponse
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from billing.gateways.base import PaymentResult
from billing.models import GatewayEvent, Payment
from billing.services import _lock_payment, payment_move

logger = logging.getLogger(__name__)

Outcome = tuple[str, Payment | None, str]  # (status, payment, note)
Handler = Callable[[dict[str, Any]], Outcome]


# --- handlers ---------------------------------------------------------------------------------
def _payment_for(obj: dict[str, Any], reference: str | None) -> Payment | None:
    payment_id = Payment.objects.filter(gateway_reference=reference).values_list("pk", flat=True)
    found = payment_id.first() if reference else None
    if found is None:
        metadata = obj.get("metadata") or {}
        raw = str(metadata.get("lawline_payment") or "")
        found = int(raw) if raw.isascii() and raw.isdigit() else None
    if found is None or not Payment.objects.filter(pk=found).exists():
        return None
    return _lock_payment(found)


def handle_payment_intent(event: dict[str, Any]) -> Outcome:
    """Any payment_intent.* event: move to the state of the intent's snapshot in the event."""
    from billing.gateways.stripe import intent_result

    intent = event["data"]["object"]
    payment = _payment_for(intent, intent.get("id"))
    if payment is None:
        return GatewayEvent.Status.IGNORED, None, "no payment for this intent"
    result: PaymentResult = intent_result(intent)
    if result.amount != payment.amount or result.currency != payment.currency:
        return (
            GatewayEvent.Status.IGNORED,
            payment,
            f"intent is {result.amount} {result.currency}, payment {payment.amount} "
            f"{payment.currency}",
        )
    if event["type"] == "payment_intent.payment_failed":
        error = (intent.get("last_payment_error") or {}).get("code") or "payment_failed"
        Payment.objects.filter(pk=payment.pk).update(last_error=f"card step: {error}"[:300])
    moved = payment_move(payment=payment, target=result.state, source=event["type"])
    return GatewayEvent.Status.PROCESSED, payment, "" if moved else "no change"


def handle_charge_refunded(event: dict[str, Any]) -> Outcome:
    """A refund seen at Stripe (ours confirmed, or one staff made in Stripe's dashboard)."""
    charge = event["data"]["object"]
    payment = _payment_for(charge, charge.get("payment_intent"))
    if payment is None:
        return GatewayEvent.Status.IGNORED, None, "no payment for this charge"
    if int(charge.get("amount_refunded") or 0) < payment.amount:
        return GatewayEvent.Status.IGNORED, payment, "partial refund: not supported"
    moved = payment_move(payment=payment, target=Payment.State.REFUNDED, source=event["type"])
    return GatewayEvent.Status.PROCESSED, payment, "" if moved else "no change"


HANDLERS: dict[str, Handler] = {
    "payment_intent.amount_capturable_updated": handle_payment_intent,
    "payment_intent.succeeded": handle_payment_intent,
    "payment_intent.canceled": handle_payment_intent,
    "payment_intent.payment_failed": handle_payment_intent,
    "payment_intent.requires_action": handle_payment_intent,
    "payment_intent.processing": handle_payment_intent,
    "charge.refunded": handle_charge_refunded,
}


# --- storing and handling an event --------------------------------------------------------------
def gateway_event_receive(*, gateway: str, event: dict[str, Any]) -> GatewayEvent:
    """Store the event once and handle it unless it was handled already."""
    event_id = str(event["id"])
    created = event.get("created")
    occurred_at = datetime.fromtimestamp(int(created), tz=UTC) if created else None
    with transaction.atomic():
        # two deliveries at once: the second INSERT waits for the first transaction, then does
        # nothing; the row lock below serialises the handling
        GatewayEvent.objects.bulk_create(
            [
                GatewayEvent(
                    gateway=gateway,
                    event_id=event_id,
                    type=str(event.get("type", ""))[:100],
                    payload=event,
                    occurred_at=occurred_at,
                )
            ],
            ignore_conflicts=True,
        )
        stored = GatewayEvent.objects.select_for_update().get(event_id=event_id)
        if stored.status in (GatewayEvent.Status.PROCESSED, GatewayEvent.Status.IGNORED):
            return stored
        stored.attempts += 1
        handler = HANDLERS.get(stored.type)
        status: str
        payment: Payment | None
        note: str
        if handler is None:
            status, payment, note = GatewayEvent.Status.IGNORED, None, "no handler"
        else:
            try:
                with transaction.atomic():
                    status, payment, note = handler(event)
            except Exception as exc:
                logger.exception("webhook %s (%s) failed", event_id, stored.type)
                stored.status = GatewayEvent.Status.FAILED
                stored.error = f"{type(exc).__name__}: {exc}"[:2000]
                stored.save(update_fields=["status", "error", "attempts"])
                return stored
        stored.status = status
        stored.payment = payment
        stored.error = note
        stored.processed_at = timezone.now()
        stored.save(update_fields=["status", "payment", "error", "attempts", "processed_at"])
        return stored


def _refuse(code: str, message: str) -> JsonResponse:
    return JsonResponse({"code": code, "message": message}, status=400)


@csrf_exempt
@require_POST
def stripe_webhook(request: HttpRequest) -> JsonResponse:
    from billing.gateways.stripe import SignatureVerificationError, construct_event

    secret = settings.STRIPE_WEBHOOK_SECRET
    if not secret:
        return _refuse("webhook_not_configured", "No webhook secret is configured.")
    signature = request.headers.get("Stripe-Signature")
    if not signature:
        return _refuse("signature_missing", "The Stripe-Signature header is missing.")
    try:
        construct_event(request.body, signature, secret)
        event = json.loads(request.body)
    except SignatureVerificationError:
        return _refuse("signature_invalid", "The signature does not verify.")
    except ValueError:
        return _refuse("payload_invalid", "The body is not a JSON event.")
    if not isinstance(event, dict) or not event.get("id") or not event.get("type"):
        return _refuse("payload_invalid", "The body is not a Stripe event.")
    stored = gateway_event_receive(gateway=Payment.Gateway.STRIPE, event=event)
    if stored.status == GatewayEvent.Status.FAILED:
        return JsonResponse(
            {"code": "handler_failed", "message": "The event could not be handled; retry."},
            status=500,
        )
    return JsonResponse({"received": True, "status": stored.status})
