from __future__ import annotations

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from billing.models import GatewayEvent, LedgerEntry, Payment, Rating
from config.errors import DomainError


@admin.register(Payment)
class PaymentAdmin(admin.ModelAdmin):
    list_display = ("id", "consult", "gateway", "amount", "currency", "state", "created_at")
    list_filter = ("state", "gateway", "currency")
    search_fields = ("=id", "=consult__id", "=gateway_reference")
    readonly_fields = [f.name for f in Payment._meta.fields if f.name != "refund_reason"]
    exclude = ("client_secret",)
    actions = ["refund_payments"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    @admin.action(description=_("Refund the selected captured payments in full"))
    def refund_payments(self, request: HttpRequest, queryset: QuerySet[Payment]) -> None:
        from billing.services import payment_refund

        done = 0
        for payment in queryset.filter(state=Payment.State.CAPTURED):
            try:
                payment_refund(
                    payment_id=payment.pk,
                    staff=request.user,  # type: ignore[arg-type]
                    reason="admin action",
                )
            except DomainError as exc:
                self.message_user(
                    request, f"payment {payment.pk}: {exc.detail}", level=messages.ERROR
                )
            else:
                done += 1
        self.message_user(request, _("%(n)d payment(s) refunded.") % {"n": done})


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False


@admin.register(GatewayEvent)
class GatewayEventAdmin(ReadOnlyAdmin):
    list_display = ("event_id", "type", "status", "attempts", "payment", "received_at")
    list_filter = ("status", "type")
    search_fields = ("=event_id",)


@admin.register(LedgerEntry)
class LedgerEntryAdmin(ReadOnlyAdmin):
    list_display = ("id", "payment", "kind", "is_reversal", "amount", "currency", "lawyer")
    list_filter = ("kind", "is_reversal", "currency")
    search_fields = ("=payment__id", "=consult__id")


@admin.register(Rating)
class RatingAdmin(ReadOnlyAdmin):
    list_display = ("consult", "lawyer", "score", "created_at")
    list_filter = ("score",)
