"""Payments, gateway events, the ledger and ratings. Money is always integer minor units."""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _


class Payment(models.Model):
    """The money side of one paid consult.

    requires_payment → authorized → captured → refunded, or → canceled from either of the first
    two. The state only moves forward (see `billing.payment_states`); `settle_action` records
    what was decided under the consult lock (capture at the first reply, cancel at the SLA
    deadline) before the gateway is asked, so a lost task is re-driven, never re-decided.
    """

    class State(models.TextChoices):
        REQUIRES_PAYMENT = "requires_payment", _("Waiting for payment")
        AUTHORIZED = "authorized", _("Authorised")
        CAPTURED = "captured", _("Captured")
        CANCELED = "canceled", _("Cancelled")
        REFUNDED = "refunded", _("Refunded")

    class Gateway(models.TextChoices):
        STRIPE = "stripe", "Stripe"
        SANDBOX = "sandbox", _("Sandbox")

    class SettleAction(models.TextChoices):
        NONE = "", _("None yet")
        CAPTURE = "capture", _("Capture")
        CANCEL = "cancel", _("Cancel")

    consult = models.OneToOneField(
        "marketplace.Consult", on_delete=models.PROTECT, related_name="payment"
    )
    gateway = models.CharField(max_length=16, choices=Gateway.choices)
    # the gateway's id for this payment (a Stripe PaymentIntent id)
    gateway_reference = models.CharField(max_length=255, null=True, blank=True, unique=True)
    # handed to the asker's browser for Stripe's card step; never logged
    client_secret = models.CharField(max_length=255, blank=True)
    amount = models.PositiveIntegerField()
    currency = models.CharField(max_length=3)
    # the platform's cut, frozen with the price when the consult is created
    platform_fee_bp = models.PositiveIntegerField()
    state = models.CharField(
        max_length=20, choices=State.choices, default=State.REQUIRES_PAYMENT, db_index=True
    )
    settle_action = models.CharField(
        max_length=10, choices=SettleAction.choices, default=SettleAction.NONE, blank=True
    )
    # the stem of every idempotency key sent to the gateway for this payment
    idempotency_key = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    gateway_refund_reference = models.CharField(max_length=255, blank=True)
    refunded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    refund_reason = models.CharField(max_length=200, blank=True)
    last_error = models.CharField(max_length=300, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    authorized_at = models.DateTimeField(null=True, blank=True)
    settle_requested_at = models.DateTimeField(null=True, blank=True)
    captured_at = models.DateTimeField(null=True, blank=True, db_index=True)
    canceled_at = models.DateTimeField(null=True, blank=True)
    refunded_at = models.DateTimeField(null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("payment")
        verbose_name_plural = _("payments")
        constraints = [
            models.CheckConstraint(
                condition=Q(platform_fee_bp__lte=10000), name="billing_payment_fee_bp_max"
            ),
            # a decision to cancel (the SLA deadline passed) never ends captured
            models.CheckConstraint(
                condition=~Q(settle_action="cancel", state__in=["captured", "refunded"]),
                name="billing_payment_cancel_never_captured",
            ),
        ]
        indexes = [models.Index(fields=["settle_action", "state", "settle_requested_at"])]

    def __str__(self) -> str:
        return f"Payment {self.pk} of consult {self.consult_id} ({self.state})"

    def operation_key(self, operation: str) -> str:
        """The idempotency key of one gateway operation: the same on every retry."""
        return f"lawline-payment-{self.pk}-{self.idempotency_key.hex}-{operation}"


class GatewayEvent(models.Model):
    """A webhook event, stored once (unique event id), with how its handling went."""

    class Status(models.TextChoices):
        RECEIVED = "received", _("Received")
        PROCESSED = "processed", _("Processed")
        IGNORED = "ignored", _("Ignored")
        FAILED = "failed", _("Failed, waiting for a retry")

    gateway = models.CharField(max_length=16, choices=Payment.Gateway.choices)
    event_id = models.CharField(max_length=255, unique=True)
    type = models.CharField(max_length=100)
    payload = models.JSONField()
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.RECEIVED)
    error = models.TextField(blank=True)
    attempts = models.PositiveIntegerField(default=0)
    payment = models.ForeignKey(
        Payment, null=True, blank=True, on_delete=models.SET_NULL, related_name="events"
    )
    # when the gateway says the event happened (Stripe's `created`)
    occurred_at = models.DateTimeField(null=True, blank=True)
    received_at = models.DateTimeField(auto_now_add=True)
    processed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("gateway event")
        verbose_name_plural = _("gateway events")
        indexes = [models.Index(fields=["status", "received_at"])]

    def __str__(self) -> str:
        return f"{self.gateway} event {self.event_id} ({self.type}, {self.status})"


class LedgerEntry(models.Model):
    """Double entry for every captured payment: the platform's fee and the lawyer's earning
    add up to the amount captured; a refund adds the same entries negated."""

    class Kind(models.TextChoices):
        PLATFORM_FEE = "platform_fee", _("Platform fee")
        LAWYER_EARNING = "lawyer_earning", _("Lawyer earning")

    payment = models.ForeignKey(Payment, on_delete=models.PROTECT, related_name="ledger_entries")
    consult = models.ForeignKey(
        "marketplace.Consult", on_delete=models.PROTECT, related_name="ledger_entries"
    )
    # whose money it is: the lawyer for earnings, null for the platform's fee
    lawyer = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="ledger_entries",
    )
    kind = models.CharField(max_length=20, choices=Kind.choices)
    is_reversal = models.BooleanField(default=False)
    amount = models.BigIntegerField()  # minor units; negative for reversals
    currency = models.CharField(max_length=3)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        verbose_name = _("ledger entry")
        verbose_name_plural = _("ledger entries")
        constraints = [
            models.UniqueConstraint(
                fields=["payment", "kind", "is_reversal"], name="billing_ledger_once_per_payment"
            ),
            models.CheckConstraint(
                condition=Q(is_reversal=False, amount__gte=0) | Q(is_reversal=True, amount__lte=0),
                name="billing_ledger_sign_follows_reversal",
            ),
            models.CheckConstraint(
                condition=Q(kind="platform_fee", lawyer__isnull=True)
                | Q(kind="lawyer_earning", lawyer__isnull=False),
                name="billing_ledger_earning_has_lawyer",
            ),
        ]
        indexes = [models.Index(fields=["lawyer", "-created_at"])]

    def __str__(self) -> str:
        return f"{self.kind} {self.amount} {self.currency} (payment {self.payment_id})"


class Rating(models.Model):
    """The asker's 1–5 rating of a closed consult; one per consult."""

    consult = models.OneToOneField(
        "marketplace.Consult", on_delete=models.CASCADE, related_name="rating"
    )
    asker = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="ratings_given"
    )
    lawyer = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="ratings_received"
    )
    score = models.PositiveSmallIntegerField()
    comment = models.TextField(blank=True, max_length=1000)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        verbose_name = _("rating")
        verbose_name_plural = _("ratings")
        constraints = [
            models.CheckConstraint(
                condition=Q(score__gte=1, score__lte=5), name="billing_rating_score_1_to_5"
            ),
        ]
        indexes = [models.Index(fields=["lawyer", "-created_at"])]

    def __str__(self) -> str:
        return f"{self.score}/5 for consult {self.consult_id}"

    @property
    def is_positive(self) -> bool:
        return self.score >= POSITIVE_RATING


# a rating at or above this counts as "positive" in the satisfaction rate
POSITIVE_RATING = 4
