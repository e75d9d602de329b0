from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin

from accounts.models import ApiToken, User


@admin.register(User)
class UserAdmin(BaseUserAdmin):
    list_display = ("username", "role", "is_staff", "is_active", "date_joined")
    list_filter = ("role", "is_staff", "is_active")
    fieldsets = (  # type: ignore[misc]
        *BaseUserAdmin.fieldsets,
        ("Lawline", {"fields": ("role", "phone", "email_pending", "password_changed_at")}),
    )
    # `email` above is the confirmed address; a pending one is confirmed only by its link
    readonly_fields = ("email_pending", "password_changed_at")


@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin):
    list_display = ("prefix", "user", "name", "created_at", "last_used_at", "revoked_at")
    readonly_fields = ("key_hash", "prefix", "created_at", "last_used_at")
    search_fields = ("user__username", "prefix")
