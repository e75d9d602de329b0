"""The marketplace in the admin: read-only views for staff to look things up. Verification and
consult states have rules that only the services apply (locks, offers withdrawn, frames and
notices sent), so nothing here writes: staff decide on lawyers on /dashboard/lawyers/. List
views never show phone numbers or the text people wrote in private."""

from __future__ import annotations

from urllib.parse import urlencode

from django.contrib import admin
from django.http import HttpRequest
from django.urls import reverse
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from marketplace.models import Consult, LawyerProfile, Offer, Question, VerificationDecision


class ReadOnly:
    """Shown, never written here: the services own these writes and their rules."""

    def has_add_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False


class ReadOnlyAdmin(ReadOnly, admin.ModelAdmin):
    pass


class ReadOnlyInline(ReadOnly, admin.TabularInline):
    extra = 0
    max_num = 0
    can_delete = False


class VerificationDecisionInline(ReadOnlyInline):
    model = VerificationDecision
    fields = ("decided_at", "approved", "decided_by", "license_number", "reason")
    readonly_fields = fields
    ordering = ("-decided_at", "-pk")


@admin.register(LawyerProfile)
class LawyerProfileAdmin(ReadOnlyAdmin):
    list_display = (
        "user",
        "license_number",
        "verification",
        "home_city",
        "price",
        "currency",
        "capacity",
        "rating_avg",
        "submitted_at",
        "verified_at",
    )
    list_filter = ("verification", "currency", "categories")
    search_fields = (
        "user__username",
        "user__first_name",
        "user__last_name",
        "license_number",
        "firm",
    )
    list_select_related = ("user", "home_city")
    fields = (
        "user",
        "decide",
        "verification",
        "license_number",
        "submitted_at",
        "verified_at",
        "firm",
        "bio",
        "years_in_practice",
        "home_city",
        "regions_served",
        "categories",
        "price",
        "currency",
        "capacity",
        "rating_avg",
        "rating_count",
        "response_p50_seconds",
        "response_p90_seconds",
        "created_at",
        "updated_at",
    )
    readonly_fields = fields
    inlines = (VerificationDecisionInline,)
    ordering = ("-submitted_at", "-pk")

    @admin.display(description=_("Verification decisions"))
    def decide(self, obj: LawyerProfile) -> str:
        query = urlencode({"q": obj.license_number or obj.user.username})
        return format_html(
            '<a href="{}">{}</a>',
            f"{reverse('dashboard:lawyers')}?{query}",
            _("Approve, reject or revoke on the staff lawyers' page"),
        )


class OfferInline(ReadOnlyInline):
    model = Offer
    fields = (
        "lawyer",
        "state",
        "scope",
        "search_round",
        "created_at",
        "expires_at",
        "responded_at",
    )
    readonly_fields = fields
    ordering = ("created_at", "pk")

    def get_queryset(self, request: HttpRequest):
        return super().get_queryset(request).select_related("lawyer")


@admin.register(Question)
class QuestionAdmin(ReadOnlyAdmin):
    list_display = (
        "id",
        "title",
        "category",
        "city",
        "is_public",
        "is_anonymous",
        "status",
        "view_count",
        "created_at",
    )
    list_filter = ("status", "is_public", "is_anonymous", "category")
    search_fields = ("=id", "title", "asker__username")
    list_select_related = ("category", "city")
    fields = (
        "asker",
        "title",
        "body",
        "category",
        "city",
        "is_public",
        "is_anonymous",
        "status",
        "view_count",
        "helped_count",
        "created_at",
        "updated_at",
    )
    readonly_fields = fields
    ordering = ("-created_at",)


@admin.register(Consult)
class ConsultAdmin(ReadOnlyAdmin):
    list_display = (
        "id",
        "state",
        "asker",
        "lawyer",
        "is_paid",
        "price",
        "currency",
        "search_scope",
        "created_at",
        "accepted_at",
        "closed_at",
    )
    list_filter = ("state", "is_paid", "search_scope", "currency")
    search_fields = ("=id", "=question__id", "asker__username", "lawyer__username")
    list_select_related = ("asker", "lawyer")
    fields = (
        "state",
        "question",
        "asker",
        "lawyer",
        "requested_lawyer",
        "is_paid",
        "price",
        "currency",
        "search_scope",
        "search_round",
        "conversation",
        "created_at",
        "paid_at",
        "queued_at",
        "first_offered_at",
        "accepted_at",
        "first_reply_at",
        "sla_deadline",
        "closed_at",
        "expired_at",
        "refunded_at",
    )
    readonly_fields = fields
    inlines = (OfferInline,)
    ordering = ("-created_at",)


@admin.register(Offer)
class OfferAdmin(ReadOnlyAdmin):
    list_display = (
        "id",
        "consult",
        "lawyer",
        "state",
        "scope",
        "search_round",
        "created_at",
        "expires_at",
        "responded_at",
    )
    list_filter = ("state", "scope")
    search_fields = ("=id", "=consult__id", "lawyer__username")
    list_select_related = ("consult", "lawyer")
    ordering = ("-created_at",)


@admin.register(VerificationDecision)
class VerificationDecisionAdmin(ReadOnlyAdmin):
    list_display = ("decided_at", "profile", "approved", "decided_by", "license_number", "reason")
    list_filter = ("approved",)
    search_fields = ("profile__user__username", "license_number", "decided_by__username")
    list_select_related = ("profile__user", "decided_by")
    ordering = ("-decided_at", "-pk")
