"""Chinese full-text search: PostgreSQL has no Chinese parser, so title and body are segmented
with jieba (search mode) and stored as a `simple` tsvector; queries are segmented the same way."""

from __future__ import annotations

import re

import jieba
from django.contrib.postgres.search import SearchQuery, SearchRank
from django.db.models import F, QuerySet
from django.db.models.expressions import RawSQL

from marketplace.models import Question

jieba.setLogLevel(60)  # silence the dictionary-loading chatter
_WORD = re.compile(r"\w+")
MAX_QUERY_TOKENS = 24


def segment(text: str) -> list[str]:
    """Words of `text` for the index: jieba's search mode keeps both 信用卡 and 信用, 卡."""
    return [t.lower() for t in jieba.cut_for_search(text or "") if _WORD.fullmatch(t)]


def index_question(question: Question) -> None:
    """Refresh the question's search vector; the title weighs more than the body."""
    title = " ".join(segment(question.title))
    body = " ".join(segment(question.body[:5000]))
    Question.objects.filter(pk=question.pk).update(
        search_vector=RawSQL(
            "setweight(to_tsvector('simple', %s), 'A') || setweight(to_tsvector('simple', %s), 'B')",
            (title, body),
        )
    )


def search_query(text: str) -> SearchQuery | None:
    tokens = list(dict.fromkeys(segment(text)))[:MAX_QUERY_TOKENS]
    if not tokens:
        return None
    # any word may match; rank orders by how many and how important
    return SearchQuery(" | ".join(tokens), search_type="raw", config="simple")


def search_questions(queryset: QuerySet[Question], text: str) -> QuerySet[Question]:
    query = search_query(text)
    if query is None:
        return queryset.none()
    # the raw tsquery is safe: segment() keeps only tokens made of word characters
    return (
        queryset.filter(search_vector=query)
        .annotate(rank=SearchRank(F("search_vector"), query))
        .order_by("-rank", "-created_at")
    )
