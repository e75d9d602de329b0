"""Staff may read a private conversation only by stating why; every reading is recorded
(StaffAccessRecord). Messages are shown read-only and nowhere else in the admin."""

from __future__ import annotations

from django.contrib import admin
from django.contrib.admin.utils import unquote
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse
from django.utils.translation import gettext_lazy as _

from messaging import services
from messaging.models import Conversation, Message, StaffAccessRecord


class MessageInline(admin.TabularInline):
    model = Message
    fields = ("seq", "sender", "kind", "body", "created_at")
    readonly_fields = fields
    ordering = ("seq",)
    extra = 0
    max_num = 0
    can_delete = False
    show_change_link = False

    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("sender")


@admin.register(Conversation)
class ConversationAdmin(admin.ModelAdmin):
    list_display = ("id", "kind", "people", "last_seq", "last_message_at", "created_at")
    list_filter = ("kind",)
    search_fields = ("participants__user__username",)
    fields = ("kind", "people", "last_seq", "last_message_at", "created_at")
    readonly_fields = fields
    inlines = (MessageInline,)
    ordering = ("-last_message_at",)

    def get_queryset(self, request):
        return super().get_queryset(request).prefetch_related("participants__user")

    @admin.display(description=_("People"))
    def people(self, obj: Conversation) -> str:
        return ", ".join(p.user.username for p in obj.participants.all())

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False

    def change_view(
        self, request: HttpRequest, object_id: str, form_url: str = "", extra_context=None
    ) -> HttpResponse:
        conversation = self.get_object(request, unquote(object_id))
        if conversation is None:
            return super().change_view(request, object_id, form_url, extra_context)
        if not self.has_view_permission(request, conversation):
            raise PermissionDenied
        reason = request.GET.get("reason", "").strip()
        if not reason:
            return TemplateResponse(
                request,
                "admin/messaging/conversation/access_reason.html",
                {
                    **self.admin_site.each_context(request),
                    "opts": self.opts,
                    "conversation": conversation,
                    "title": _("Why are you opening this private conversation?"),
                },
            )
        services.staff_access_record(staff=request.user, conversation=conversation, reason=reason)  # type: ignore[arg-type]
        return super().change_view(request, object_id, form_url, extra_context)


@admin.register(StaffAccessRecord)
class StaffAccessRecordAdmin(admin.ModelAdmin):
    list_display = ("accessed_at", "staff", "conversation", "reason")
    list_filter = ("accessed_at",)
    search_fields = ("staff__username", "reason")
    readonly_fields = ("staff", "conversation", "reason", "accessed_at")
    list_select_related = ("staff", "conversation")

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False
