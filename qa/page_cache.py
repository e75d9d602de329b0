"""The question page in the shared page cache (config/page_cache.py): a cached copy still
counts its view, and every write that changes what the page shows drops the copies."""

from __future__ import annotations

import re
from collections.abc import Mapping

from django.db import transaction
from django.urls import reverse

from config import page_cache
from config.redis_connections import get_async_redis
from qa.view_counts import is_bot, pending_key

QUESTION_PATH = r"/questions/(?P<pk>\d+)/"


async def count_view(match: re.Match[str], headers: Mapping[str, str]) -> None:
    if not is_bot(headers.get("user-agent", "")):
        await get_async_redis().hincrby(pending_key(), match["pk"], 1)


def register() -> None:
    page_cache.register(QUESTION_PATH, seconds_setting="QA_PAGE_CACHE_SECONDS", on_hit=count_view)


def question_page_forget(*question_ids: int) -> None:
    """After the current transaction commits, anonymous visitors get these pages fresh."""
    paths = [reverse("qa:question", args=[pk]) for pk in question_ids]
    transaction.on_commit(lambda: page_cache.forget(paths))
