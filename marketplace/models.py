from __future__ import annotations

from django.conf import settings
from django.contrib.postgres.indexes import GinIndex
from django.contrib.postgres.search import SearchVectorField
from django.db import models
from django.utils.translation import get_language, pgettext_lazy
from django.utils.translation import gettext_lazy as _


class Region(models.Model):
    """Country → province → city, with GB/T 2260 codes (data/regions.json)."""

    class Level(models.IntegerChoices):
        COUNTRY = 0, _("Country")
        PROVINCE = 1, _("Province")
        CITY = 2, _("City")

    code = models.CharField(max_length=6, primary_key=True)
    parent = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="children"
    )
    level = models.PositiveSmallIntegerField(choices=Level.choices)
    name_zh = models.CharField(max_length=50)
    short_zh = models.CharField(max_length=20)
    name_en = models.CharField(max_length=60)

    class Meta:
        ordering = ["code"]
        indexes = [models.Index(fields=["parent", "code"])]

    def __str__(self) -> str:
        return self.name

    @property
    def name(self) -> str:
        return self.name_en if (get_language() or "").startswith("en") else self.short_zh

    @property
    def province_code(self) -> str | None:
        if self.level == self.Level.CITY:
            return self.parent_id
        if self.level == self.Level.PROVINCE:
            return self.code
        return None


class Category(models.Model):
    """A practice area (debt, traffic accidents, criminal defence, ...)."""

    slug = models.SlugField(max_length=40, unique=True)
    name_zh = models.CharField(max_length=40)
    name_en = models.CharField(max_length=60)
    sort_order = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["sort_order", "slug"]
        verbose_name_plural = "categories"

    def __str__(self) -> str:
        return self.name

    @property
    def name(self) -> str:
        return self.name_en if (get_language() or "").startswith("en") else self.name_zh


class LawyerProfile(models.Model):
    class Verification(models.TextChoices):
        UNSUBMITTED = "unsubmitted", _("Not submitted")
        PENDING = "pending", _("Pending review")
        VERIFIED = "verified", _("Verified")
        REJECTED = "rejected", _("Rejected")

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="lawyer_profile"
    )
    license_number = models.CharField(max_length=32, blank=True)
    firm = models.CharField(max_length=100, blank=True)
    bio = models.TextField(blank=True, max_length=2000)
    years_in_practice = models.PositiveSmallIntegerField(default=0)
    verification = models.CharField(
        max_length=16, choices=Verification.choices, default=Verification.UNSUBMITTED
    )
    verified_at = models.DateTimeField(null=True, blank=True)
    # when the license number was last submitted for review (the staff queue's order)
    submitted_at = models.DateTimeField(null=True, blank=True)
    home_city = models.ForeignKey(
        Region, on_delete=models.PROTECT, related_name="resident_lawyers", null=True
    )
    # city or province codes; a province means all its cities (filtered in SQL by matching)
    regions_served = models.ManyToManyField(Region, related_name="serving_lawyers", blank=True)
    categories = models.ManyToManyField(Category, related_name="lawyers", blank=True)
    # price per consult in minor units (fen for CNY); 0 means free consults only
    price = models.PositiveIntegerField(default=0)
    currency = models.CharField(max_length=3, default="CNY")
    capacity = models.PositiveSmallIntegerField(default=3)
    # denormalised figures, refreshed by the metrics rollup (billing.metrics)
    rating_avg = models.DecimalField(max_digits=3, decimal_places=2, null=True, blank=True)
    rating_count = models.PositiveIntegerField(default=0)
    response_p50_seconds = models.PositiveIntegerField(null=True, blank=True)
    response_p90_seconds = models.PositiveIntegerField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("lawyer profile")
        verbose_name_plural = _("lawyer profiles")
        indexes = [models.Index(fields=["verification", "home_city"])]

    def __str__(self) -> str:
        return f"{self.user} ({self.get_verification_display()})"

    @property
    def is_verified(self) -> bool:
        return self.verification == self.Verification.VERIFIED


class Question(models.Model):
    class Status(models.TextChoices):
        # a report is "Open" and a consult "Answered" too, with other words in Chinese
        OPEN = "open", pgettext_lazy("question status", "Open")
        ANSWERED = "answered", pgettext_lazy("question status", "Answered")
        CLOSED = "closed", _("Closed")
        HIDDEN = "hidden", _("Hidden by moderation")

    asker = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="questions"
    )
    title = models.CharField(max_length=120)
    body = models.TextField(max_length=20000)
    category = models.ForeignKey(Category, on_delete=models.PROTECT, related_name="questions")
    city = models.ForeignKey(Region, on_delete=models.PROTECT, related_name="questions")
    is_public = models.BooleanField(default=True)
    is_anonymous = models.BooleanField(default=False)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.OPEN)
    view_count = models.PositiveIntegerField(default=0)
    helped_count = models.PositiveIntegerField(default=0)
    # jieba-segmented title + body, for Chinese full-text search (qa.search)
    search_vector = SearchVectorField(null=True, editable=False)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("question")
        verbose_name_plural = _("questions")
        indexes = [
            models.Index(fields=["is_public", "status", "-created_at"]),
            models.Index(fields=["city", "category", "-created_at"]),
            GinIndex(fields=["search_vector"]),
        ]

    def __str__(self) -> str:
        return self.title


class Consult(models.Model):
    """A 1-on-1 between an asker and one lawyer, from a question.

    pending_payment → queued → offered → active → resolved; offered → queued when every offer
    expired or was declined; expired when no first reply came before the SLA deadline;
    refunded only by a staff refund of a captured payment. Transitions live in
    marketplace.consult_states; nothing else writes `state`.
    """

    class State(models.TextChoices):
        PENDING_PAYMENT = "pending_payment", _("Waiting for payment")
        QUEUED = "queued", _("Looking for a lawyer")
        OFFERED = "offered", _("Offered to lawyers")
        ACTIVE = "active", _("In progress")
        RESOLVED = "resolved", _("Resolved")
        EXPIRED = "expired", _("Expired, not charged")
        REFUNDED = "refunded", _("Refunded")
        CANCELED = "canceled", _("Cancelled")

    class Scope(models.TextChoices):
        CITY = "city", _("City")
        PROVINCE = "province", _("Province")
        NATION = "nation", _("Nationwide")

    question = models.ForeignKey(Question, on_delete=models.PROTECT, related_name="consults")
    asker = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="consults_asked"
    )
    lawyer = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="consults_taken",
    )
    requested_lawyer = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="consults_requested",
    )
    state = models.CharField(max_length=20, choices=State.choices, db_index=True)
    is_paid = models.BooleanField(default=False)
    # the price quoted and frozen at creation, in minor units
    price = models.PositiveIntegerField(default=0)
    currency = models.CharField(max_length=3, default="CNY")
    search_scope = models.CharField(max_length=10, choices=Scope.choices, default=Scope.CITY)
    search_round = models.PositiveIntegerField(default=0)
    conversation = models.OneToOneField(
        "messaging.Conversation",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="consult",
    )
    created_at = models.DateTimeField(auto_now_add=True)
    paid_at = models.DateTimeField(null=True, blank=True)
    queued_at = models.DateTimeField(null=True, blank=True)
    first_offered_at = models.DateTimeField(null=True, blank=True)
    scope_widened_at = models.DateTimeField(null=True, blank=True)
    # the last matching pass (beat re-runs one for a queued consult not looked at for a while)
    matched_at = models.DateTimeField(null=True, blank=True)
    accepted_at = models.DateTimeField(null=True, blank=True)
    first_reply_at = models.DateTimeField(null=True, blank=True)
    sla_deadline = models.DateTimeField(null=True, blank=True)
    closed_at = models.DateTimeField(null=True, blank=True)
    expired_at = models.DateTimeField(null=True, blank=True)
    refunded_at = models.DateTimeField(null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("consultation")
        verbose_name_plural = pgettext_lazy("admin model", "consultations")
        indexes = [
            models.Index(fields=["state", "sla_deadline"]),
            models.Index(fields=["lawyer", "state"]),
            models.Index(fields=["asker", "-created_at"]),
        ]
        constraints = [
            # a double submit opens one consult, without locking the question
            models.UniqueConstraint(
                fields=["question"],
                condition=models.Q(state__in=["pending_payment", "queued", "offered", "active"]),
                name="consult_one_open_per_question",
            ),
        ]

    def __str__(self) -> str:
        return f"Consult {self.pk} ({self.state})"

    def state_label(self, state: str | None = None) -> str:
        """A state (this consult's own by default) as its people read it: a free consult that
        expired was never going to be charged, so it is just "Expired"."""
        state = state or self.state
        if state == self.State.EXPIRED and not self.is_paid:
            return str(_("Expired"))
        return str(self.State(state).label)


class Offer(models.Model):
    class State(models.TextChoices):
        PENDING = "pending", _("Pending")
        ACCEPTED = "accepted", _("Accepted")
        DECLINED = "declined", _("Declined")
        EXPIRED = "expired", _("Expired")
        REVOKED = "revoked", _("Revoked")

    consult = models.ForeignKey(Consult, on_delete=models.CASCADE, related_name="offers")
    lawyer = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="offers"
    )
    state = models.CharField(max_length=10, choices=State.choices, default=State.PENDING)
    scope = models.CharField(max_length=10, choices=Consult.Scope.choices)
    search_round = models.PositiveIntegerField(default=0)
    rank_score = models.FloatField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField()
    responded_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("consultation offer")
        verbose_name_plural = _("consultation offers")
        constraints = [
            # one live offer per lawyer per consult
            models.UniqueConstraint(
                fields=["consult", "lawyer"],
                condition=models.Q(state="pending"),
                name="marketplace_offer_one_pending_per_lawyer",
            ),
            # at most one accepted offer per consult: the first accept wins
            models.UniqueConstraint(
                fields=["consult"],
                condition=models.Q(state="accepted"),
                name="marketplace_offer_one_accepted_per_consult",
            ),
        ]
        indexes = [
            models.Index(fields=["lawyer", "state", "created_at"]),
            models.Index(fields=["state", "expires_at"]),
        ]

    def __str__(self) -> str:
        return f"Offer {self.pk} of consult {self.consult_id} to {self.lawyer_id} ({self.state})"


class VerificationDecision(models.Model):
    """A staff decision on a lawyer's verification: kept forever, newest last."""

    profile = models.ForeignKey(
        LawyerProfile, on_delete=models.CASCADE, related_name="verification_decisions"
    )
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    approved = models.BooleanField()
    reason = models.CharField(max_length=500, blank=True)
    # what was verified: the license number as it stood when staff decided
    license_number = models.CharField(max_length=32)
    decided_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("verification decision")
        verbose_name_plural = _("verification decisions")
        ordering = ["decided_at", "pk"]
        indexes = [models.Index(fields=["profile", "-decided_at"])]

    def __str__(self) -> str:
        verdict = "approved" if self.approved else "rejected"
        return f"{verdict} {self.profile_id} by {self.decided_by_id}"
