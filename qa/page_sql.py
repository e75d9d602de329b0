"""The question page's reads as fixed SQL: the question, its answers with their legal bases,
and its side lists (well-rated local lawyers, related questions). Composed by the ORM, these
reads cost a page more CPU than everything else on it (the compiler, not PostgreSQL: 26 of 45 ms
in a profile of an uncached page), and their shape never changes. Each returns what the ORM
query it replaced returned (tests/qa/test_page_sql.py holds the two to the same results)."""

from __future__ import annotations

from collections import defaultdict
from functools import lru_cache
from typing import cast

from django.db import connection

from accounts.models import User
from config import prepared_sql
from marketplace.models import Category, LawyerProfile, Question, Region
from qa.models import Answer, AnswerLike, HelpfulMark, LegalBasis
from qa.search import MAX_QUERY_TOKENS

_LAWYER_PARTS = (
    (LawyerProfile, "p", ()),
    (User, "u", ("password",)),
    (Region, "h", ()),
)
_QUESTION_PARTS = (
    (Question, "q", ("body", "search_vector")),
    (Region, "r", ()),
    (Category, "g", ()),
)
_PAGE_PARTS = (
    (Question, "q", ("search_vector",)),
    (Region, "r", ()),
    (Region, "rp", ()),
    (Category, "g", ()),
    (User, "u", ("password",)),
)
_ANSWER_PARTS = (
    (Answer, "a", ()),
    (User, "u", ("password",)),
    (LawyerProfile, "p", ()),
    (Region, "h", ()),
)
EXCERPT_CHARS = 120


def _fetch_all(sql: str, params) -> list[tuple]:
    # prepared once per pooled connection and planned once (generic plans, see prepared_sql):
    # planning these statements cost PostgreSQL 0.3-0.4 ms each, more than running them; they
    # stay in the query log and in pinned query counts
    return prepared_sql.fetch_all(sql, params, logged=True)


def _table(model) -> str:
    return connection.ops.quote_name(model._meta.db_table)


@lru_cache(maxsize=1)
def _question_page_sql() -> tuple[str, tuple[tuple[str, ...], ...]]:
    columns, attnames = prepared_sql.model_columns(_PAGE_PARTS)
    sql = (
        f"SELECT {', '.join(columns)}"  # noqa: S608 - names from the models
        f" FROM {_table(Question)} q"
        f" JOIN {_table(Region)} r ON r.code = q.city_id"
        f" LEFT JOIN {_table(Region)} rp ON rp.code = r.parent_id"
        f" JOIN {_table(Category)} g ON g.id = q.category_id"
        f" JOIN {_table(User)} u ON u.id = q.asker_id"
        " WHERE q.id = %s AND q.is_public AND q.status <> %s"
    )
    return sql, attnames


def question_for_page(question_id: int) -> Question | None:
    """A public question with its city (and the city's province), category and asker."""
    sql, attnames = _question_page_sql()
    rows = _fetch_all(sql, [question_id, Question.Status.HIDDEN])
    if not rows:
        return None
    question, city, province, category, asker = prepared_sql.instances_from_row(
        _PAGE_PARTS, attnames, rows[0]
    )
    question = cast(Question, question)
    city = cast(Region, city)
    city.parent = cast(Region, province) if city.parent_id is not None else None
    question.city, question.category = city, cast(Category, category)
    question.asker = cast(User, asker)
    return question


@lru_cache(maxsize=2)
def _lawyer_cards_sql(*, ranked: bool) -> tuple[str, tuple[tuple[str, ...], ...]]:
    """Verified lawyers as cards (with their approved answers and the people these helped):
    `ranked`, those living in a city or serving it or its province, best first; otherwise those
    with the given ids, in any order."""
    columns, attnames = prepared_sql.model_columns(_LAWYER_PARTS)
    served = _table(LawyerProfile.regions_served.through)
    practised = _table(LawyerProfile.categories.through)
    # the lawyers to consider, looked up by key from there: living in the city or serving it or
    # its province (two index scans; as an OR in the WHERE, PostgreSQL filtered every verified
    # lawyer of the country), or the given ids
    pool = (
        f"SELECT id FROM {_table(LawyerProfile)} WHERE home_city_id = %(city)s"  # noqa: S608 - names from the models
        f" UNION SELECT lawyerprofile_id FROM {served} WHERE region_id IN (%(city)s, %(province)s)"
        if ranked
        else "SELECT unnest(%(ids)s::bigint[])"
    )
    order = (
        f" ORDER BY EXISTS (SELECT 1 FROM {practised} pc WHERE pc.lawyerprofile_id = p.id"  # noqa: S608
        "   AND pc.category_id = %(category)s) DESC,"
        " p.rating_avg DESC NULLS LAST, p.response_p50_seconds ASC NULLS LAST,"
        " helped_total DESC, answer_count DESC, p.id"
        " LIMIT %(limit)s"
        if ranked
        else ""
    )
    sql = (
        f"WITH pool(id) AS MATERIALIZED ({pool})"  # noqa: S608 - names from the models
        f" SELECT {', '.join(columns)},"
        " COALESCE(s.answer_count, 0) AS answer_count, COALESCE(s.helped_total, 0) AS helped_total"
        " FROM pool"
        # each profile by its key (OFFSET 0 keeps the planner from scanning them all instead)
        f" CROSS JOIN LATERAL (SELECT * FROM {_table(LawyerProfile)} p"
        "   WHERE p.id = pool.id OFFSET 0) p"
        f" JOIN {_table(User)} u ON u.id = p.user_id"
        f" LEFT JOIN {_table(Region)} h ON h.code = p.home_city_id"
        " LEFT JOIN LATERAL (SELECT count(*) AS answer_count, sum(a.helpful_count) AS helped_total"
        f"   FROM {_table(Answer)} a WHERE a.lawyer_id = p.user_id AND a.status = %(approved)s) s"
        "   ON true"
        " WHERE p.verification = %(verified)s AND u.is_active" + order
    )
    return sql, attnames


def _lawyer_cards(rows: list[tuple]) -> list[LawyerProfile]:
    _, attnames = _lawyer_cards_sql(ranked=True)
    cards = []
    for row in rows:
        profile, user, home = prepared_sql.instances_from_row(_LAWYER_PARTS, attnames, row[:-2])
        profile = cast(LawyerProfile, profile)
        profile.user = cast(User, user)
        profile.home_city = cast(Region, home) if profile.home_city_id is not None else None
        vars(profile).update(answer_count=row[-2], helped_total=row[-1])
        cards.append(profile)
    return cards


def _lawyer_params(**params) -> dict:
    return {
        "approved": Answer.Status.APPROVED,
        "verified": LawyerProfile.Verification.VERIFIED,
        **params,
    }


def lawyers_ranked_for_city(city: Region, *, category: Category | None, limit: int):
    sql, _ = _lawyer_cards_sql(ranked=True)
    params = _lawyer_params(
        city=city.code,
        province=city.parent_id,
        category=category.pk if category is not None else None,
        limit=limit,
    )
    return _lawyer_cards(_fetch_all(sql, params))


def lawyers_by_ids(ids: list[int]) -> list[LawyerProfile]:
    sql, _ = _lawyer_cards_sql(ranked=False)
    return _lawyer_cards(_fetch_all(sql, _lawyer_params(ids=ids)))


# The related questions' query is the source question's own index entry: its first words in
# document order (the title's, then the body's), as `search_query` builds it from the text,
# without segmenting the text again on every view.
_RELATED_TSQUERY = (
    "(SELECT to_tsquery('simple'::regconfig,"
    " coalesce(string_agg(quote_literal(w.lexeme), ' | ' ORDER BY w.first, w.lexeme), ''))"
    " FROM (SELECT v.lexeme, v.positions[1] AS first"
    "   FROM {question} s, unnest(s.search_vector) v WHERE s.id = %(source)s"
    "   ORDER BY v.positions[1], v.lexeme LIMIT %(words)s) w)"
)


@lru_cache(maxsize=2)
def _question_cards_sql(*, ranked: bool) -> tuple[str, tuple[tuple[str, ...], ...]]:
    """Public questions as cards (excerpt, place, category, approved answers): `ranked`, those
    about the same problem as a source question, best first, a category's ranking boosted;
    otherwise those with the given ids, in any order."""
    columns, attnames = prepared_sql.model_columns(_QUESTION_PARTS)
    related = _RELATED_TSQUERY.format(question=_table(Question))
    where = (
        # copies of the source's own title (a question asked again and again) would fill
        # every candidate slot and then be dropped as repeats of it
        f"q.search_vector @@ {related} AND q.id <> %(source)s AND q.title <> %(source_title)s"
        if ranked
        else "q.id = ANY(%(ids)s)"
    )
    order = (
        f" ORDER BY ts_rank(q.search_vector, {related})"
        "   + CASE WHEN q.category_id = %(boost)s THEN %(boost_by)s ELSE 0.0 END DESC,"
        " q.created_at DESC LIMIT %(limit)s"
        if ranked
        else ""
    )
    sql = (
        f"SELECT {', '.join(columns)},"  # noqa: S608 - names from the models
        f" substr(q.body, 1, {EXCERPT_CHARS}) AS excerpt,"
        f" (SELECT count(*) FROM {_table(Answer)} a"
        "   WHERE a.question_id = q.id AND a.status = %(approved)s) AS answer_count"
        f" FROM {_table(Question)} q"
        f" JOIN {_table(Region)} r ON r.code = q.city_id"
        f" JOIN {_table(Category)} g ON g.id = q.category_id"
        " WHERE q.is_public AND q.status <> %(hidden)s AND " + where + order
    )
    return sql, attnames


def _question_cards(rows: list[tuple]) -> list[Question]:
    _, attnames = _question_cards_sql(ranked=True)
    cards = []
    for row in rows:
        question, city, category = prepared_sql.instances_from_row(
            _QUESTION_PARTS, attnames, row[:-2]
        )
        question = cast(Question, question)
        question.city, question.category = cast(Region, city), cast(Category, category)
        vars(question).update(excerpt=row[-2], answer_count=row[-1])
        cards.append(question)
    return cards


def _question_params(**params) -> dict:
    return {"approved": Answer.Status.APPROVED, "hidden": Question.Status.HIDDEN, **params}


def questions_related_to(
    source: Question, *, boost_category_id: int, boost_by: float, limit: int
) -> list[Question]:
    """Public questions whose index matches any of the source question's first
    MAX_QUERY_TOKENS indexed words, best first; none titled as the source is."""
    sql, _ = _question_cards_sql(ranked=True)
    params = _question_params(
        source=source.pk,
        source_title=source.title,
        words=MAX_QUERY_TOKENS,
        boost=boost_category_id,
        boost_by=boost_by,
        limit=limit,
    )
    return _question_cards(_fetch_all(sql, params))


def questions_by_ids(ids: list[int]) -> list[Question]:
    sql, _ = _question_cards_sql(ranked=False)
    return _question_cards(_fetch_all(sql, _question_params(ids=ids)))


@lru_cache(maxsize=1)
def _answers_sql() -> tuple[str, tuple[tuple[str, ...], ...]]:
    columns, attnames = prepared_sql.model_columns(_ANSWER_PARTS)
    marks, likes = _table(HelpfulMark), _table(AnswerLike)
    sql = (
        f"SELECT {', '.join(columns)},"  # noqa: S608 - names from the models
        f" EXISTS (SELECT 1 FROM {marks} m WHERE m.answer_id = a.id AND m.user_id = %(asker)s)"
        "   AS asker_found_helpful,"
        f" EXISTS (SELECT 1 FROM {likes} l WHERE l.answer_id = a.id AND l.user_id = %(viewer)s),"
        f" EXISTS (SELECT 1 FROM {marks} m WHERE m.answer_id = a.id AND m.user_id = %(viewer)s)"
        f" FROM {_table(Answer)} a"
        f" JOIN {_table(User)} u ON u.id = a.lawyer_id"
        f" LEFT JOIN {_table(LawyerProfile)} p ON p.user_id = u.id"
        f" LEFT JOIN {_table(Region)} h ON h.code = p.home_city_id"
        " WHERE a.question_id = %(question)s AND a.status = %(approved)s"
        " ORDER BY asker_found_helpful DESC, a.helpful_count DESC, a.like_count DESC,"
        " a.published_at, a.id"
    )
    return sql, attnames


@lru_cache(maxsize=1)
def _legal_bases_sql() -> tuple[str, tuple[str, ...]]:
    columns, (attnames,) = prepared_sql.model_columns(((LegalBasis, "b", ()),))
    sql = (
        f"SELECT {', '.join(columns)} FROM {_table(LegalBasis)} b"  # noqa: S608 - model names
        " WHERE b.answer_id = ANY(%s) ORDER BY b.answer_id, b.position"
    )
    return sql, attnames


def answers_for_page(question: Question, *, viewer_id: int | None) -> list[Answer]:
    """The question's approved answers, the ones its asker found helpful first, then the most
    helpful and liked, each with its lawyer (profile, home city), its legal bases, and whether
    the viewer (None: anonymous) liked it or marked it helpful."""
    sql, attnames = _answers_sql()
    params = {
        "question": question.pk,
        "approved": Answer.Status.APPROVED,
        "asker": question.asker_id,
        "viewer": viewer_id or 0,
    }
    answers = []
    for row in _fetch_all(sql, params):
        answer, lawyer, profile, home = prepared_sql.instances_from_row(
            _ANSWER_PARTS, attnames, row[:-3]
        )
        answer, lawyer = cast(Answer, answer), cast(User, lawyer)
        lawyer_profile: LawyerProfile | None = None
        if profile.pk is not None:  # as select_related leaves a lawyer without a profile
            lawyer_profile = cast(LawyerProfile, profile)
            lawyer_profile.user = lawyer
            lawyer_profile.home_city = (
                cast(Region, home) if lawyer_profile.home_city_id is not None else None
            )
        User.lawyer_profile.related.set_cached_value(lawyer, lawyer_profile)  # type: ignore[attr-defined]
        answer.lawyer = lawyer
        vars(answer).update(asker_found_helpful=row[-3], liked=row[-2], marked_helpful=row[-1])
        answers.append(answer)
    _attach_legal_bases(answers)
    return answers


def _attach_legal_bases(answers: list[Answer]) -> None:
    """As `prefetch_related("legal_bases")` leaves them: `answer.legal_bases.all()` reads no
    more rows."""
    if not answers:
        return
    sql, attnames = _legal_bases_sql()
    by_answer: defaultdict[int, list[LegalBasis]] = defaultdict(list)
    for row in _fetch_all(sql, [[a.pk for a in answers]]):
        basis = LegalBasis.from_db(connection.alias, attnames, row)
        by_answer[basis.answer_id].append(basis)
    cache_name = Answer.legal_bases.rel.get_accessor_name()
    for answer in answers:
        bases = LegalBasis.objects.all()
        bases._result_cache = by_answer[answer.pk]
        bases._prefetch_done = True  # type: ignore[attr-defined]
        answer._prefetched_objects_cache = {cache_name: bases}  # type: ignore[attr-defined]
