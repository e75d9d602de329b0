"""Template filters of the public Q&A: masking of personal data, names, response times."""

from __future__ import annotations

from django import template
from django.utils.translation import get_language

from qa import masking

register = template.Library()


@register.filter(is_safe=True)
def mask_pii(value: object) -> str:
    """Phone, ID-card and bank-card numbers and e-mail addresses masked (on display only)."""
    return masking.mask_personal_data("" if value is None else str(value))


@register.filter
def mask_phone(value: object) -> str:
    return masking.mask_phone("" if value is None else str(value))


@register.filter
def person_name(user) -> str:
    """A user's name as `User.display_name` writes it (李建国, John Smith); the username when
    there is none."""
    if user is None:
        return ""
    return user.display_name


@register.filter
def compact_count(value: int | None) -> str:
    """1234 → 1234, 43000 → 4.3w (万) in Chinese, 43k in English."""
    n = int(value or 0)
    if (get_language() or "").startswith("zh"):
        if n >= 100_000:
            return "10w+"
        return f"{n / 10_000:.1f}w".replace(".0w", "w") if n >= 10_000 else str(n)
    if n >= 1_000_000:
        return f"{n / 1_000_000:.1f}M".replace(".0M", "M")
    return f"{n / 1_000:.1f}k".replace(".0k", "k") if n >= 10_000 else str(n)


@register.filter
def place_name(region) -> str:
    """A city with its province: 山东济南 in Chinese, "Jinan, Shandong" in English; a
    municipality (北京) once."""
    if region is None:
        return ""
    parent = region.parent if region.level == region.Level.CITY else None
    if parent is None or parent.name == region.name:
        return region.name
    if (get_language() or "").startswith("en"):
        return f"{region.name}, {parent.name}"
    return f"{parent.name}{region.name}"
