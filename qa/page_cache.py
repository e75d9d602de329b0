"""The question page in the shared page cache (config/page_cache.py): a cached copy still
counts its view, and every write that changes what the page shows drops the copies."""

from __future__ import annotations

import re
from collections.abc import Mapping

from django.db import transaction
from django.urls import reverse

from config import page_cache
from qa.view_counts import is_bot, pending_key

QUESTION_PATH = r"/questions/(?P<pk>\d+)/"


def view_counter(match: re.Match[str], headers: Mapping[str, str]) -> tuple[str, str] | None:
    """A cached question page counts its view like a rendered one (view_counts.view_record)."""
    if is_bot(headers.get("user-agent", "")):
        return None
    return pending_key(), match["pk"]


def register() -> None:
    page_cache.register(
        QUESTION_PATH, seconds_setting="QA_PAGE_CACHE_SECONDS", count_hit=view_counter
    )


def question_page_forget(*question_ids: int) -> None:
    """After the current transaction commits, anonymous visitors get these pages fresh."""
    paths = [reverse("qa:question", args=[pk]) for pk in question_ids]
    transaction.on_commit(lambda: page_cache.forget(paths))
