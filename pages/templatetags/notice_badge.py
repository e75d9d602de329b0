"""The header's unread-notices count: queried only where the nav is rendered, for signed-in
users (one query), so pages that never show the nav pay nothing."""

from __future__ import annotations

from typing import Any

from django import template

from messaging.selectors import notice_unread_count

register = template.Library()


@register.simple_tag
def unread_notice_count(user: Any) -> int:
    if not getattr(user, "is_authenticated", False):
        return 0
    return notice_unread_count(user=user)
