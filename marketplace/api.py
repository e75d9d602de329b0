from __future__ import annotations

from django.http import HttpRequest
from ninja import Query, Router, Schema

from config.errors import NotFound
from marketplace import selectors
from marketplace.models import Region

router = Router()


class RegionOut(Schema):
    code: str
    parent: str | None
    level: int
    kind: str
    name: str
    name_zh: str
    short_zh: str
    name_en: str

    @staticmethod
    def resolve_parent(obj: Region) -> str | None:
        return obj.parent_id

    @staticmethod
    def resolve_kind(obj: Region) -> str:
        return Region.Level(obj.level).name.lower()


class RegionFilter(Schema):
    parent: str | None = None


class CategoryOut(Schema):
    slug: str
    name: str
    name_zh: str
    name_en: str


@router.get("/regions", response=list[RegionOut], auth=None, tags=["reference data"])
def regions(request: HttpRequest, filters: Query[RegionFilter]):
    """Provinces, or the cities of `?parent=<province code>`."""
    if filters.parent and not Region.objects.filter(code=filters.parent).exists():
        raise NotFound()
    return list(selectors.region_list(parent=filters.parent))


@router.get("/categories", response=list[CategoryOut], auth=None, tags=["reference data"])
def categories(request: HttpRequest):
    return list(selectors.category_list())
