"""Chinese full-text search: PostgreSQL has no Chinese parser, so title and body are segmented
with jieba (search mode) and stored as a `simple` tsvector; queries are segmented the same way.

Function words (请问, 怎么办, 可以, 吗 ...) and bare numbers are dropped on both sides: they are
in almost every question, so they would make every question "similar" to every other."""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence

import jieba
from django.contrib.postgres.search import SearchQuery, SearchRank
from django.db import connection
from django.db.models import F, QuerySet
from django.db.models.expressions import RawSQL

from marketplace.models import Question

jieba.setLogLevel(60)  # silence the dictionary-loading chatter
_WORD = re.compile(r"\w+")
_NUMBER = re.compile(r"[\d.]+")
MAX_QUERY_TOKENS = 24
BODY_INDEX_CHARS = 5000
INDEX_BATCH = 500

STOPWORDS = frozenset(
    """
    请问 问问 一下 咨询 你好 您好 谢谢 律师 请教 求助 急 急急 在线等
    怎么 怎么办 怎样 怎么样 如何 什么 为什么 多少 哪些 哪个 哪里 是否 能否 能不能 可不可以 会不会
    要不要 有没有 是不是 可以 能够 应该 需要 应当 想要 已经 现在 然后 但是 因为 所以 如果 还是 或者
    这个 那个 这样 那样 这种 那种 一个 一些 我们 你们 他们 她们 自己 对方 时候 情况 问题 目前
    的 了 吗 呢 吧 啊 么 嘛 呀 哦 着 过 得 地 和 与 及 或 被 把 给 对 从 到 为 在 是 有 就 都 也 还 又
    很 太 最 更 我 你 您 他 她 它 这 那 个 些 一 能 会 要 想 让 该 后 前 里 上 下 中 谁 啥 呗 么样
    """.split()
)


def segment(text: str) -> list[str]:
    """Words of `text` for the index: jieba's search mode keeps both 信用卡 and 信用, 卡."""
    return [
        token
        for token in (t.lower() for t in jieba.cut_for_search(text or ""))
        if _WORD.fullmatch(token) and token not in STOPWORDS and not _NUMBER.fullmatch(token)
    ]


_VECTOR_SQL = "setweight(to_tsvector('simple', {title}), 'A') || setweight(to_tsvector('simple', {body}), 'B')"


def _document(question: Question) -> tuple[str, str]:
    return " ".join(segment(question.title)), " ".join(segment(question.body[:BODY_INDEX_CHARS]))


def index_question(question: Question) -> None:
    """Refresh the question's search vector; the title weighs more than the body."""
    title, body = _document(question)
    Question.objects.filter(pk=question.pk).update(
        # parameters bound by the driver; the SQL around them is a constant
        search_vector=RawSQL(_VECTOR_SQL.format(title="%s", body="%s"), (title, body)),  # noqa: S611
    )


def index_questions(questions: Iterable[Question]) -> int:
    """Refresh many questions' search vectors with one UPDATE per batch (demo seeding,
    re-indexing after the segmentation changed)."""
    table = connection.ops.quote_name(Question._meta.db_table)
    done = 0
    batch: list[tuple[int, str, str]] = []

    def flush(rows: Sequence[tuple[int, str, str]]) -> None:
        values = ", ".join(["(%s::bigint, %s::text, %s::text)"] * len(rows))
        params = [value for row in rows for value in row]
        vector = _VECTOR_SQL.format(title="v.title", body="v.body")
        with connection.cursor() as cursor:
            cursor.execute(
                f"UPDATE {table} AS q SET search_vector = {vector} "  # noqa: S608 - fixed names
                f"FROM (VALUES {values}) AS v(id, title, body) WHERE q.id = v.id",
                params,
            )

    for question in questions:
        batch.append((question.pk, *_document(question)))
        if len(batch) >= INDEX_BATCH:
            flush(batch)
            done += len(batch)
            batch = []
    if batch:
        flush(batch)
        done += len(batch)
    return done


def search_query(text: str) -> SearchQuery | None:
    tokens = list(dict.fromkeys(segment(text)))[:MAX_QUERY_TOKENS]
    if not tokens:
        return None
    # any word may match; rank orders by how many and how important
    return SearchQuery(" | ".join(tokens), search_type="raw", config="simple")


def search_questions(queryset: QuerySet[Question], text: str) -> QuerySet[Question]:
    """`queryset` narrowed to questions matching `text`, best first (annotated with `rank`)."""
    query = search_query(text)
    if query is None:
        return queryset.none()
    # the raw tsquery is safe: segment() keeps only tokens made of word characters
    return (
        queryset.filter(search_vector=query)
        .annotate(rank=SearchRank(F("search_vector"), query))
        .order_by("-rank", "-created_at")
    )
