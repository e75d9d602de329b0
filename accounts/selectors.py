from __future__ import annotations

from django.db.models import QuerySet

from accounts.models import ApiToken, User


def api_tokens_active(*, user: User) -> QuerySet[ApiToken]:
    """The user's tokens that still sign in, newest first (never the hash)."""
    return (
        ApiToken.objects.filter(user=user, revoked_at__isnull=True)
        .only("pk", "prefix", "name", "created_at", "last_used_at")
        .order_by("-created_at", "-pk")
    )
