"""Load regions and categories from marketplace/data (idempotent; used by a data migration)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

DATA_DIR = Path(__file__).resolve().parent / "data"


def region_rows() -> list[dict[str, Any]]:
    return json.loads((DATA_DIR / "regions.json").read_text("utf-8"))


def category_rows() -> list[dict[str, Any]]:
    return json.loads((DATA_DIR / "categories.json").read_text("utf-8"))


def load_reference_data(region_model: Any, category_model: Any) -> None:
    rows = sorted(region_rows(), key=lambda r: r["level"])  # parents before children
    region_model.objects.bulk_create(
        [
            region_model(
                code=r["code"],
                parent_id=r["parent"],
                level=r["level"],
                name_zh=r["name_zh"],
                short_zh=r["short_zh"],
                name_en=r["name_en"],
            )
            for r in rows
        ],
        update_conflicts=True,
        unique_fields=["code"],
        update_fields=["parent", "level", "name_zh", "short_zh", "name_en"],
    )
    category_model.objects.bulk_create(
        [
            category_model(slug=c["slug"], name_zh=c["name_zh"], name_en=c["name_en"], sort_order=i)
            for i, c in enumerate(category_rows())
        ],
        update_conflicts=True,
        unique_fields=["slug"],
        update_fields=["name_zh", "name_en", "sort_order"],
    )
