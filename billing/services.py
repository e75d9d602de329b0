"""Billing's writes: payments, their gateway calls, the SLA guarantee, refunds and ratings.

Lock order, everywhere: the consult row first, then its payment row. The message gate (which
holds the consult lock when the lawyer's first reply lands) and the SLA sweep (which takes due
consults with SKIP LOCKED) decide under that lock whether a payment is captured or cancelled,
and record the decision on the payment (`settle_action`) in the same transaction; the gateway
is called after commit, outside any lock, with an idempotency key per operation, by a task that
retries and that beat re-drives if it is lost.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from accounts.models import User
from billing import errors
from billing.gateways import get_gateway, stripe_configured
from billing.gateways.base import (
    CreatePaymentRequest,
    GatewayError,
    PaymentOperationRequest,
    PaymentResult,
)
from billing.gateways.sandbox import SandboxGateway
from billing.ledger import ledger_record_capture, ledger_record_refund
from billing.models import Payment, Rating
from billing.payment_states import path_to
from billing.prices import consult_price_quote, platform_fee_bp
from config.errors import NotFound
from marketplace.models import Consult

logger = logging.getLogger(__name__)

S = Payment.State

# states in which a consult waits for its first lawyer reply under the SLA clock
SLA_STATES = (Consult.State.QUEUED, Consult.State.OFFERED, Consult.State.ACTIVE)
# states in which a consult ends without anything to pay
ENDED_UNPAID = (Consult.State.CANCELED, Consult.State.EXPIRED)


# --- creating and paying -------------------------------------------------------------------------
def consult_price_check(
    *, requested_lawyer: User | None, paid: bool, price: int, currency: str
) -> None:
    """Check the price a new consult is about to be frozen at, before marketplace writes it: a
    named lawyer's price must be the one the asker was shown (`price_changed`, 409, otherwise),
    an open consult's price must be within the bounds. `requested_lawyer` comes with its
    `lawyer_profile`. Reads nothing."""
    quote = consult_price_quote(
        requested_lawyer=requested_lawyer,
        paid=paid,
        price=price if paid else None,
        currency=currency,
    )
    if (quote.price, quote.currency) != (price, currency):
        raise errors.PriceChanged(fields={"price": f"{quote.price} {quote.currency}"})


def payment_create_for_consult(*, consult: Consult) -> Payment:
    """Open the payment of a new paid consult, at the price frozen on it.

    Called by marketplace's consult creation in the consult's transaction, after
    `consult_price_check`. No gateway call here: the gateway's payment is opened when the asker
    reaches the card step (`payment_prepare`).
    """
    if consult.price <= 0:
        raise errors.InvalidPrice(fields={"price": "A paid consult needs a price above 0."})
    return Payment.objects.create(
        consult=consult,
        gateway=_new_payment_gateway_name(),
        amount=consult.price,
        currency=consult.currency,
        platform_fee_bp=platform_fee_bp(),
    )


def _new_payment_gateway_name() -> str:
    from billing.gateways import default_gateway_name

    return default_gateway_name()


def payment_prepare(*, payment: Payment) -> Payment:
    """Make sure the gateway holds a payment for this one (idempotent: a second call, or two at
    once, reach the gateway with the same key and get the same payment)."""
    if payment.gateway_reference or payment.state != S.REQUIRES_PAYMENT:
        return payment
    gateway = get_gateway(payment.gateway)
    try:
        result = gateway.create_payment(
            CreatePaymentRequest(
                payment_id=payment.pk,
                consult_id=payment.consult_id,
                amount=payment.amount,
                currency=payment.currency,
                idempotency_key=payment.operation_key("create"),
                description=f"Lawline consultation {payment.consult_id}",
            )
        )
    except GatewayError as exc:
        raise _gateway_domain_error(exc) from exc
    with transaction.atomic():
        locked = Payment.objects.select_for_update().get(pk=payment.pk)
        if not locked.gateway_reference:
            locked.gateway_reference = result.reference
            locked.client_secret = result.client_secret
            locked.save(update_fields=["gateway_reference", "client_secret", "updated_at"])
    return locked


def payment_checkout(*, payment_id: int, user: User) -> Payment:
    """The asker reaches the card step: the gateway's payment is opened (once)."""
    payment = _asker_payment(payment_id=payment_id, user=user)
    if payment.gateway == Payment.Gateway.STRIPE and payment.state == S.REQUIRES_PAYMENT:
        return payment_prepare(payment=payment)
    return payment


def payment_sandbox_authorize(*, payment_id: int, user: User) -> Payment:
    """The sandbox's stand-in for the card step. Refused when Stripe is configured."""
    payment = _asker_payment(payment_id=payment_id, user=user)
    if stripe_configured() or payment.gateway != Payment.Gateway.SANDBOX:
        raise errors.SandboxDisabled()
    if payment.state == S.AUTHORIZED:
        return payment
    if payment.state != S.REQUIRES_PAYMENT:
        raise errors.PaymentNotPayable()
    payment = payment_prepare(payment=payment)
    assert payment.gateway_reference
    result = SandboxGateway().authorize_payment(
        PaymentOperationRequest(
            reference=payment.gateway_reference,
            idempotency_key=payment.operation_key("authorize"),
            amount=payment.amount,
        )
    )
    return payment_apply_gateway_result(payment_id=payment.pk, result=result, source="sandbox")


def payment_sync(*, payment_id: int, user: User) -> Payment:
    """Ask the gateway where the payment stands (after Stripe's card step in the browser):
    the payment moves on the gateway's own answer, never on the browser's word."""
    payment = _asker_payment(payment_id=payment_id, user=user)
    if payment.gateway != Payment.Gateway.STRIPE or not payment.gateway_reference:
        return payment
    try:
        result = get_gateway(payment.gateway).retrieve_payment(payment.gateway_reference)
        # an intent for another amount is refused here too (409), not a 500
        return payment_apply_gateway_result(payment_id=payment.pk, result=result, source="sync")
    except GatewayError as exc:
        raise _gateway_domain_error(exc) from exc


def _asker_payment(*, payment_id: int, user: User) -> Payment:
    payment = Payment.objects.select_related("consult").filter(pk=payment_id).first()
    if payment is None or payment.consult.asker_id != user.pk:
        raise NotFound()
    return payment


# --- moving a payment's state ---------------------------------------------------------------------
def payment_apply_gateway_result(*, payment_id: int, result: PaymentResult, source: str) -> Payment:
    """Move the payment to the state the gateway reports (forward only), in one transaction
    with everything that follows from it: the consult enters matching once authorised, the
    ledger is written once captured."""
    with transaction.atomic():
        payment = _lock_payment(payment_id)
        if result.amount and result.amount != payment.amount:
            raise GatewayError(
                f"gateway amount {result.amount} differs from {payment.amount}",
                retryable=False,
                code="amount_mismatch",
            )
        payment_move(payment=payment, target=result.state, source=source)
    return payment


def payment_move(*, payment: Payment, target: str, source: str) -> bool:
    """Precondition: the consult and payment rows are locked (`_lock_payment`). Returns whether
    the state changed; a stale or impossible move changes nothing."""
    steps = path_to(payment.state, target)
    if not steps:
        if payment.state != target:
            logger.info(
                "payment %s: %s → %s from %s ignored", payment.pk, payment.state, target, source
            )
        return False
    now = timezone.now()
    for step in steps:
        payment.state = step
        if step == S.AUTHORIZED:
            payment.authorized_at = now
        elif step == S.CAPTURED:
            payment.captured_at = now
        elif step == S.CANCELED:
            payment.canceled_at = now
        elif step == S.REFUNDED:
            payment.refunded_at = now
    if payment.settle_action == Payment.SettleAction.CAPTURE and payment.state == S.CANCELED:
        # the gateway dropped the authorisation before our capture reached it
        payment.last_error = "authorisation canceled at the gateway before capture"
    payment.save()
    consult_moved = False
    for step in steps:
        consult_moved |= _after_step(payment=payment, step=step)
    if not consult_moved:
        from marketplace.consult_states import consult_payment_moved

        consult_payment_moved(consult=payment.consult, payment=_payment_frame(payment))
    return True


def _payment_frame(payment: Payment) -> dict[str, object]:
    """The payment as `consult.updated` carries it (the API's `payment` of a consult)."""
    return {
        "id": payment.pk,
        "state": str(payment.state),
        "amount": payment.amount,
        "currency": str(payment.currency),
        "gateway": str(payment.gateway),
    }


def _after_step(*, payment: Payment, step: str) -> bool:
    """Returns whether the consult moved too (its `consult.updated` then carries the payment)."""
    consult = payment.consult
    if step == S.AUTHORIZED and consult.state == Consult.State.PENDING_PAYMENT:
        from marketplace.consult_states import consult_mark_paid

        consult_mark_paid(consult_id=consult.pk, payment=_payment_frame(payment))
        return True
    if step == S.AUTHORIZED and consult.state in ENDED_UNPAID and not payment.settle_action:
        # the card step finished after the consult ended (withdrawn, expired): release it
        _decide(payment=payment, action=Payment.SettleAction.CANCEL)
    elif step == S.CAPTURED:
        ledger_record_capture(payment=payment)
    elif step == S.REFUNDED:
        ledger_record_refund(payment=payment)
        _consult_refunded(payment=payment)
        return True
    return False


def _lock_payment(payment_id: int) -> Payment:
    """Lock the consult, then its payment (the one lock order of billing)."""
    consult_id = Payment.objects.filter(pk=payment_id).values_list("consult_id", flat=True).first()
    if consult_id is None:
        raise NotFound()
    consult = Consult.objects.select_for_update().get(pk=consult_id)
    payment = Payment.objects.select_for_update().get(pk=payment_id)
    payment.consult = consult
    return payment


# --- capture at the first reply, cancel at the deadline ------------------------------------------
def payment_capture_on_first_reply(*, consult: Consult) -> None:
    """Decide the capture of a consult's payment; the gateway is asked after commit.

    Precondition: called inside the transaction that stores the lawyer's first reply, with the
    consult row locked (marketplace.consult_messages.consult_message_gate)."""
    payment = Payment.objects.select_for_update().filter(consult=consult).first()
    if payment is None or payment.settle_action:
        return
    if payment.state != S.AUTHORIZED:
        logger.warning("payment %s is %s at the first reply", payment.pk, payment.state)
        return
    _decide(payment=payment, action=Payment.SettleAction.CAPTURE)


def _decide(*, payment: Payment, action: str) -> None:
    payment.settle_action = action
    payment.settle_requested_at = timezone.now()
    payment.save(update_fields=["settle_action", "settle_requested_at", "updated_at"])
    from billing.tasks import payment_settle_task

    payment_id = payment.pk
    # after commit; an unreachable broker loses the task, not the decision (beat resettles)
    payment_settle_task.delay_on_commit(payment_id)


def payment_settle(*, payment_id: int) -> Payment:
    """Carry out the capture or cancel decided for this payment. Idempotent; raises
    GatewayError(retryable=True) when the gateway could not be reached (the task retries with
    the same idempotency key)."""
    payment = Payment.objects.get(pk=payment_id)
    action = payment.settle_action
    if not action or payment.state not in (S.REQUIRES_PAYMENT, S.AUTHORIZED):
        return payment
    if not payment.gateway_reference:
        # the card step never began: nothing at the gateway to cancel
        if action == Payment.SettleAction.CANCEL:
            with transaction.atomic():
                locked = _lock_payment(payment_id)
                payment_move(payment=locked, target=S.CANCELED, source="settle")
            return locked
        raise RuntimeError(f"payment {payment_id}: capture decided without a gateway payment")
    gateway = get_gateway(payment.gateway)
    request = PaymentOperationRequest(
        reference=payment.gateway_reference,
        idempotency_key=payment.operation_key(action),
        amount=payment.amount,
        reason="abandoned" if action == Payment.SettleAction.CANCEL else "",
    )
    try:
        if action == Payment.SettleAction.CAPTURE:
            result = gateway.capture_payment(request)
        else:
            result = gateway.cancel_payment(request)
    except GatewayError as exc:
        Payment.objects.filter(pk=payment_id).update(last_error=str(exc)[:300])
        raise
    return payment_apply_gateway_result(payment_id=payment_id, result=result, source=action)


def payments_to_resettle(*, now: datetime | None = None) -> list[int]:
    """Decided captures and cancels that have not happened a while after the decision (a lost
    task, a gateway outage longer than the task's retries)."""
    cutoff = (now or timezone.now()) - timedelta(
        seconds=settings.BILLING_SETTLE_RETRY_AFTER_SECONDS
    )
    return list(
        Payment.objects.filter(
            state__in=[S.REQUIRES_PAYMENT, S.AUTHORIZED],
            settle_requested_at__lte=cutoff,
        )
        .exclude(settle_action="")
        .order_by("settle_requested_at")
        .values_list("pk", flat=True)[:500]
    )


def consult_sla_expire_due(*, now: datetime | None = None, limit: int | None = None) -> int:
    """Expire consults whose first-reply deadline passed: one transaction per consult, taken
    with SKIP LOCKED so a consult whose first reply is being stored right now is left to that
    reply (if the reply commits, the consult no longer matches here; if it fails, the next
    sweep takes it). Returns how many consults expired."""
    limit = limit or settings.BILLING_SLA_SWEEP_BATCH
    expired = 0
    # one consult whose expiry fails must not hold back every later one (it is the oldest, so
    # each sweep would take it first again): it is skipped for this sweep and retried next time
    failed: list[int] = []
    for _ in range(limit):
        consult_id = None
        try:
            with transaction.atomic():
                moment = now or timezone.now()
                consult = (
                    Consult.objects.select_for_update(skip_locked=True, of=("self",))
                    .filter(
                        state__in=SLA_STATES,
                        sla_deadline__lte=moment,
                        first_reply_at__isnull=True,
                    )
                    .exclude(pk__in=failed)
                    .order_by("sla_deadline")
                    .first()
                )
                if consult is None:
                    break
                consult_id = consult.pk
                consult_sla_expire(consult=consult)
        except Exception:
            if consult_id is None:
                raise
            logger.exception("SLA expiry of consult %s failed", consult_id)
            failed.append(consult_id)
            continue
        expired += 1
    return expired


def consult_sla_expire(*, consult: Consult) -> None:
    """Precondition: the consult row is locked and its deadline has passed without a reply.
    The consult expires, its payment is cancelled (the asker pays nothing) and the asker is
    told on the socket and by a platform notice."""
    from marketplace.consult_states import consult_expire

    consult_expire(consult_id=consult.pk)
    payment = Payment.objects.select_for_update().filter(consult=consult).first()
    if payment is not None and not payment.settle_action:
        if payment.state in (S.REQUIRES_PAYMENT, S.AUTHORIZED):
            _decide(payment=payment, action=Payment.SettleAction.CANCEL)
    _notify_asker(
        consult_id=consult.pk, kind="consult_expired" if consult.is_paid else "consult_expired_free"
    )


def payment_cancel_for_consult(*, consult: Consult) -> None:
    """Release the payment of a consult that ends before any lawyer replied (the asker
    withdrew it). Precondition: the consult row is locked, in the transaction that ends it."""
    payment = Payment.objects.select_for_update().filter(consult=consult).first()
    if payment is None or payment.settle_action:
        return
    if payment.state in (S.REQUIRES_PAYMENT, S.AUTHORIZED):
        _decide(payment=payment, action=Payment.SettleAction.CANCEL)


# --- refunds -------------------------------------------------------------------------------------
def payment_refund(*, payment_id: int, staff: User, reason: str = "") -> Payment:
    """A staff refund of a captured payment: the only way to `refunded`. The gateway is asked
    first, outside any lock (its idempotency key makes a double click one refund), then the
    payment, the ledger and the consult move together."""
    from accounts.roles import require_staff

    require_staff(staff)
    payment = Payment.objects.filter(pk=payment_id).first()
    if payment is None:
        raise NotFound()
    if payment.state == S.REFUNDED:
        return payment
    if payment.state != S.CAPTURED or not payment.gateway_reference:
        raise errors.PaymentNotRefundable()
    try:
        refund = get_gateway(payment.gateway).refund_payment(
            PaymentOperationRequest(
                reference=payment.gateway_reference,
                idempotency_key=payment.operation_key("refund"),
                amount=payment.amount,
                reason="requested_by_customer",
            )
        )
    except GatewayError as exc:
        raise _gateway_domain_error(exc) from exc
    with transaction.atomic():
        locked = _lock_payment(payment_id)
        if locked.state == S.CAPTURED:
            locked.gateway_refund_reference = refund.reference
            locked.refunded_by = staff
            locked.refund_reason = reason[:200]
            payment_move(payment=locked, target=S.REFUNDED, source="staff_refund")
    return locked


def _consult_refunded(*, payment: Payment) -> None:
    from marketplace.consult_states import consult_mark_refunded

    consult_mark_refunded(consult_id=payment.consult_id, payment=_payment_frame(payment))
    _notify_asker(consult_id=payment.consult_id, kind="refund_done")


def _notify_asker(*, consult_id: int, kind: str) -> None:
    """A platform notice that stays in the asker's inbox (the state machine's transition has
    already queued the `consult.updated` frame for their socket)."""
    from messaging.services import notice_send

    consult = Consult.objects.select_related("asker").get(pk=consult_id)
    context: dict[str, object] = {"consult": consult.pk}
    if kind == "refund_done":
        context |= {"amount": consult.price, "currency": consult.currency}
    notice_send(user=consult.asker, kind=kind, context=context)


# --- ratings -------------------------------------------------------------------------------------
def rating_create(*, consult_id: int, user: User, score: object, comment: str = "") -> Rating:
    """The asker rates a closed consult, once."""
    if not isinstance(score, int) or isinstance(score, bool) or not 1 <= score <= 5:
        raise errors.InvalidRating(fields={"score": errors.InvalidRating.message})
    with transaction.atomic():
        consult = Consult.objects.select_for_update().filter(pk=consult_id).first()
        if consult is None or consult.asker_id != user.pk:
            raise NotFound()
        if consult.state != Consult.State.RESOLVED or consult.lawyer_id is None:
            raise errors.ConsultNotClosed()
        if Rating.objects.filter(consult=consult).exists():
            raise errors.AlreadyRated()
        try:
            with transaction.atomic():
                return Rating.objects.create(
                    consult=consult,
                    asker=user,
                    lawyer_id=consult.lawyer_id,
                    score=score,
                    comment=(comment or "").strip()[:1000],
                )
        except IntegrityError as exc:
            raise errors.AlreadyRated() from exc


def _gateway_domain_error(exc: GatewayError) -> Exception:
    logger.warning("gateway call failed: %s", exc)
    if exc.retryable:
        return errors.GatewayUnavailable()
    return errors.GatewayRefused()
