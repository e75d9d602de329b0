from __future__ import annotations

from django.db.models import QuerySet

from marketplace.models import Category, Region


def region_list(*, parent: str | None = None) -> QuerySet[Region]:
    """Provinces when no parent is given; otherwise that region's children."""
    if parent:
        return Region.objects.filter(parent_id=parent).order_by("code")
    return Region.objects.filter(level=Region.Level.PROVINCE).order_by("code")


def category_list() -> QuerySet[Category]:
    return Category.objects.all()
