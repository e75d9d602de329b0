"""Reads of the public Q&A. Everything public goes through `public_questions()` and
`visible_answers()`: a private question (or consult) or a hidden one can never reach a list,
the search, the sitemap or related questions by another path."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.db.models import (
    Case,
    Count,
    Exists,
    F,
    FloatField,
    IntegerField,
    OuterRef,
    Prefetch,
    Q,
    QuerySet,
    Subquery,
    Sum,
    Value,
    When,
)
from django.db.models.functions import Coalesce, Substr

from accounts.models import User
from config.errors import NotFound
from marketplace.models import Category, Consult, LawyerProfile, Question, Region
from messaging.models import Message
from qa import page_sql
from qa.masking import mask_personal_data
from qa.models import (
    Answer,
    AnswerReview,
    AnswerRevision,
    ConsultPublication,
    ModerationDecision,
    Report,
    TargetType,
)
from qa.search import search_questions

_SLUG = re.compile(r"[-a-z0-9_]{1,40}")
ANSWERABLE_STATUSES = (Question.Status.OPEN, Question.Status.ANSWERED)
EXCERPT_CHARS = 120
# a same-category question ranks as if it matched this much better
SAME_CATEGORY_BOOST = 0.3


def public_questions() -> QuerySet[Question]:
    return Question.objects.filter(is_public=True).exclude(status=Question.Status.HIDDEN)


def visible_answers() -> QuerySet[Answer]:
    return Answer.objects.filter(status=Answer.Status.APPROVED, question__is_public=True).exclude(
        question__status=Question.Status.HIDDEN
    )


def _approved_answers_of_question() -> Coalesce:
    counted = (
        Answer.objects.filter(question=OuterRef("pk"), status=Answer.Status.APPROVED)
        .order_by()
        .values("question")
        .annotate(n=Count("pk"))
        .values("n")
    )
    return Coalesce(Subquery(counted, output_field=IntegerField()), 0)


def question_cards(queryset: QuerySet[Question]) -> QuerySet[Question]:
    """What a list of questions shows: no full bodies, the place and the number of answers."""
    return (
        queryset.select_related("city", "category")
        .defer("body", "search_vector")
        .annotate(
            excerpt=Substr("body", 1, EXCERPT_CHARS), answer_count=_approved_answers_of_question()
        )
    )


def region_by_code(code: str | None) -> Region | None:
    """A filter's region: None when not given, NotFound when unknown."""
    if not code:
        return None
    if not (len(code) == 6 and code.isascii() and code.isdigit()):
        raise NotFound()
    region = Region.objects.select_related("parent").filter(code=code).first()
    if region is None:
        raise NotFound()
    return region


def category_by_slug(slug: str | None) -> Category | None:
    if not slug:
        return None
    if not _SLUG.fullmatch(slug):
        raise NotFound()
    category = Category.objects.filter(slug=slug).first()
    if category is None:
        raise NotFound()
    return category


def region_scope(queryset: QuerySet, region: Region | None, city_field: str = "city") -> QuerySet:
    """Narrow to a city, or to every city of a province; the country means everywhere."""
    if region is None or region.level == Region.Level.COUNTRY:
        return queryset
    if region.level == Region.Level.PROVINCE:
        return queryset.filter(**{f"{city_field}__parent_id": region.code})
    return queryset.filter(**{f"{city_field}_id": region.code})


def question_browse(
    *,
    region: Region | None = None,
    category: Category | None = None,
    text: str = "",
    unanswered: bool = False,
) -> QuerySet[Question]:
    queryset = region_scope(public_questions(), region)
    if category is not None:
        queryset = queryset.filter(category=category)
    if unanswered:
        queryset = queryset.filter(status=Question.Status.OPEN)
    if text.strip():
        queryset = search_questions(queryset, text)
    else:
        queryset = queryset.order_by("-created_at", "-pk")
    return question_cards(queryset)


def question_public(question_id: int) -> Question:
    """With its city and province, category and asker (fixed SQL: qa/page_sql.py)."""
    question = page_sql.question_for_page(question_id)
    if question is None:
        raise NotFound()
    return question


def _in_order(rows: Iterable, ids: list[int]) -> list:
    by_id = {row.pk: row for row in rows}
    return [by_id[pk] for pk in ids if pk in by_id]


def questions_similar(
    *,
    text: str,
    region: Region | None = None,
    category: Category | None = None,
    exclude_id: int | None = None,
    boost_category_id: int | None = None,
    limit: int | None = None,
) -> list[Question]:
    """Public questions like `text`, best first: for the ask form as the user types, and for
    related questions."""
    limit = limit or settings.QA_SIMILAR_LIMIT
    queryset = region_scope(public_questions(), region)
    if category is not None:
        queryset = queryset.filter(category=category)
    if exclude_id is not None:
        queryset = queryset.exclude(pk=exclude_id)
    matches = search_questions(queryset, text)
    if boost_category_id is not None:
        matches = matches.annotate(
            score=F("rank")
            + Case(
                When(category_id=boost_category_id, then=Value(SAME_CATEGORY_BOOST)),
                default=Value(0.0),
                output_field=FloatField(),
            )
        ).order_by("-score", "-created_at")
    return list(question_cards(matches)[:limit])


# the same question is often asked again in the same words: related questions skip repeats of
# a title, so a few more candidates than places are ranked
RELATED_CANDIDATES_PER_SLOT = 3


def _distinct_titles(questions: list[Question], *, besides: str) -> list[Question]:
    seen = {besides.strip()}
    distinct = []
    for question in questions:
        title = question.title.strip()
        if title not in seen:
            seen.add(title)
            distinct.append(question)
    return distinct


def questions_related(question: Question, *, limit: int | None = None) -> list[Question]:
    """Public questions like this one, same category first (as `questions_similar` ranks them,
    in fixed SQL: qa/page_sql.py), one per title. The ranking is cached by id; the rows are
    read fresh, so a question hidden since never shows."""
    limit = limit or settings.QA_RELATED_LIMIT
    cache_key = f"qa:related:{question.pk}:{limit}"
    ids = cache.get(cache_key) if settings.QA_FRAGMENT_CACHE_SECONDS else None
    if ids is None:
        found = _distinct_titles(
            page_sql.questions_related_to(
                question,
                boost_category_id=question.category_id,
                boost_by=SAME_CATEGORY_BOOST,
                limit=limit * RELATED_CANDIDATES_PER_SLOT,
            ),
            besides=question.title,
        )[:limit]
        if settings.QA_FRAGMENT_CACHE_SECONDS:
            cache.set(cache_key, [q.pk for q in found], settings.QA_FRAGMENT_CACHE_SECONDS)
        return found
    if not ids:
        return []
    return _in_order(page_sql.questions_by_ids(ids), ids)


# --- answers ---------------------------------------------------------------------------
def answers_for_question(question: Question, viewer: Any) -> list[Answer]:
    """The approved answers, most helpful first, with what the viewer did to each (fixed SQL:
    qa/page_sql.py)."""
    signed_in = viewer is not None and viewer.is_authenticated
    return page_sql.answers_for_page(question, viewer_id=viewer.pk if signed_in else None)


def answers_of_lawyer(lawyer: User) -> QuerySet[Answer]:
    """The lawyer's own answers in every state (with rejection reasons), each with its
    `open_edits`: edits still waiting or rejected, newest first (`answer_open_edit`)."""
    return (
        Answer.objects.filter(lawyer=lawyer)
        .select_related("question")
        .prefetch_related(
            "legal_bases",
            Prefetch(
                "revisions",
                queryset=AnswerRevision.objects.filter(status__in=OPEN_EDIT_STATUSES).order_by(
                    "-number"
                ),
                to_attr="open_edits",
            ),
        )
        .order_by("-created_at")
    )


# an edit of a published answer that is not in its text: waiting for review, or refused
OPEN_EDIT_STATUSES = (AnswerRevision.Status.PENDING, AnswerRevision.Status.REJECTED)


def answer_open_edit(answer: Answer) -> AnswerRevision | None:
    """The lawyer's latest edit of a published answer when it is not in the published text:
    waiting for review, or rejected (with the reason) and not followed by another. Uses
    `open_edits` when prefetched (answers_of_lawyer), else one query."""
    if answer.revision == 0 or answer.status != Answer.Status.APPROVED:
        return None
    edits = getattr(answer, "open_edits", None)
    if edits is None:
        edits = list(
            AnswerRevision.objects.filter(
                answer=answer, number=answer.revision, status__in=OPEN_EDIT_STATUSES
            )
        )
    return next((e for e in edits if e.number == answer.revision), None)


def answer_bases_data(answer: Answer) -> list[dict[str, str]]:
    """The answer's legal bases as an edit stores them."""
    return [
        {"statute": b.statute, "article": b.article, "excerpt": b.excerpt}
        for b in answer.legal_bases.order_by("position")
    ]


def lawyer_has_live_answer(lawyer: User, question: Question) -> bool:
    return (
        Answer.objects.filter(question=question, lawyer=lawyer)
        .exclude(status=Answer.Status.REJECTED)
        .exists()
    )


def answers_pending_review() -> QuerySet[Answer]:
    """The review queue: answers waiting for review and published answers with an edit waiting
    (`edits`: every edit of the answer, the pending one last), flagged ones first (an edit by
    its own flags), then the longest waiting."""
    pending_edit = AnswerRevision.objects.filter(
        answer=OuterRef("pk"), status=AnswerRevision.Status.PENDING
    )
    return (
        Answer.objects.alias(
            has_edit=Exists(pending_edit),
            edit_flagged=Subquery(pending_edit.values("is_flagged")[:1]),
            edit_since=Subquery(pending_edit.values("created_at")[:1]),
        )
        .filter(Q(status=Answer.Status.PENDING) | Q(status=Answer.Status.APPROVED, has_edit=True))
        .select_related(
            "question", "question__city", "question__category", "lawyer", "lawyer__lawyer_profile"
        )
        .prefetch_related(
            "legal_bases",
            "reviews",
            Prefetch(
                "revisions", queryset=AnswerRevision.objects.order_by("number"), to_attr="edits"
            ),
        )
        .annotate(
            from_consult=Exists(ConsultPublication.objects.filter(question=OuterRef("question"))),
            queue_flagged=Coalesce("edit_flagged", "is_flagged"),
            waiting_since=Coalesce("edit_since", "created_at"),
        )
        .order_by("-queue_flagged", "waiting_since", "pk")
    )


def answer_pending_edit(answer: Answer) -> AnswerRevision | None:
    """The edit a queued answer has waiting (from `answers_pending_review`'s `edits`)."""
    if answer.status != Answer.Status.APPROVED:
        return None
    return next(
        (e for e in answer.edits if e.status == AnswerRevision.Status.PENDING),  # type: ignore[attr-defined]
        None,
    )


def answer_history(answer_id: int) -> QuerySet[AnswerRevision]:
    """Every edit of an answer, oldest first, each with the text it replaced (staff)."""
    if not Answer.objects.filter(pk=answer_id).exists():
        raise NotFound()
    return AnswerRevision.objects.filter(answer_id=answer_id).order_by("number")


# --- lawyers ---------------------------------------------------------------------------
def _lawyer_cards(queryset: QuerySet[LawyerProfile]) -> QuerySet[LawyerProfile]:
    approved = Answer.objects.filter(lawyer=OuterRef("user_id"), status=Answer.Status.APPROVED)
    answer_count = approved.order_by().values("lawyer").annotate(n=Count("pk")).values("n")
    helped = approved.order_by().values("lawyer").annotate(n=Sum("helpful_count")).values("n")
    return queryset.select_related("user", "home_city").annotate(
        answer_count=Coalesce(Subquery(answer_count, output_field=IntegerField()), 0),
        helped_total=Coalesce(Subquery(helped, output_field=IntegerField()), 0),
    )


def verified_lawyers() -> QuerySet[LawyerProfile]:
    return LawyerProfile.objects.filter(
        verification=LawyerProfile.Verification.VERIFIED, user__is_active=True
    )


def _serving(region: Region) -> Q:
    """Lawyers living in or serving a region (a city is also served by whoever serves its
    province)."""
    served = LawyerProfile.regions_served.through.objects
    if region.level == Region.Level.CITY:
        home = Q(home_city_id=region.code)
        serves = Q(region_id__in=[region.code, region.parent_id])
    else:
        home = Q(home_city__parent_id=region.code)
        serves = Q(region_id=region.code) | Q(region__parent_id=region.code)
    return home | Q(pk__in=served.filter(serves).values("lawyerprofile_id"))


WELL_RATED_ORDER = (
    F("rating_avg").desc(nulls_last=True),
    F("response_p50_seconds").asc(nulls_last=True),
    "-helped_total",
    "-answer_count",
    "pk",
)


def lawyers_local(
    city: Region, *, category: Category | None = None, limit: int = 4
) -> list[LawyerProfile]:
    """Well-rated verified lawyers for a question's city (living in it, or serving it or its
    province): practising its category first, then by rating and real response time (fixed
    SQL: qa/page_sql.py). The ranking is cached by id; rows are read fresh."""
    cache_key = f"qa:local-lawyers:{city.code}:{category.pk if category else 0}:{limit}"
    ids = cache.get(cache_key) if settings.QA_FRAGMENT_CACHE_SECONDS else None
    if ids is not None:
        return _in_order(page_sql.lawyers_by_ids(ids), ids) if ids else []
    found = page_sql.lawyers_ranked_for_city(city, category=category, limit=limit)
    if settings.QA_FRAGMENT_CACHE_SECONDS:
        cache.set(cache_key, [p.pk for p in found], settings.QA_FRAGMENT_CACHE_SECONDS)
    return found


def lawyer_directory(
    *, region: Region | None = None, category: Category | None = None
) -> QuerySet[LawyerProfile]:
    queryset = verified_lawyers()
    if region is not None and region.level != Region.Level.COUNTRY:
        queryset = queryset.filter(_serving(region))
    if category is not None:
        queryset = queryset.filter(categories=category)
    return _lawyer_cards(queryset).prefetch_related("categories").order_by(*WELL_RATED_ORDER)


def lawyer_public(user_id: int) -> LawyerProfile:
    profile = (
        _lawyer_cards(verified_lawyers().filter(user_id=user_id))
        .select_related("home_city__parent")
        .prefetch_related("categories", "regions_served")
        .first()
    )
    if profile is None:
        raise NotFound()
    return profile


def lawyer_recent_answers(user_id: int, *, limit: int = 10) -> list[Answer]:
    return list(
        visible_answers()
        .filter(lawyer_id=user_id)
        .select_related("question", "question__city")
        .prefetch_related("legal_bases")
        .order_by("-published_at")[:limit]
    )


# --- reports ---------------------------------------------------------------------------
@dataclass
class ReportGroup:
    """Open reports on one target, with what staff need to decide."""

    target_type: str
    target_id: int
    reports: list[Report] = field(default_factory=list)
    target: object = None

    @property
    def first(self) -> Report:
        return self.reports[0]

    @property
    def reasons(self) -> list[str]:
        return sorted({r.get_reason_display() for r in self.reports})


def reports_open(*, limit: int = 500) -> list[ReportGroup]:
    """Open reports grouped by target, the most reported first. Message bodies are not loaded:
    reading one is a separate, audited step."""
    groups: dict[tuple[str, int], ReportGroup] = {}
    for report in (
        Report.objects.filter(status=Report.Status.OPEN)
        .select_related("reporter")
        .order_by("created_at", "pk")[:limit]
    ):
        group = groups.setdefault(
            (report.target_type, report.target_id),
            ReportGroup(report.target_type, report.target_id),
        )
        group.reports.append(report)
    ids: dict[str, list[int]] = {}
    for target_type, target_id in groups:
        ids.setdefault(target_type, []).append(target_id)
    targets: dict[str, dict[int, Any]] = {}
    if TargetType.QUESTION in ids:
        targets[TargetType.QUESTION] = Question.objects.defer("search_vector").in_bulk(
            ids[TargetType.QUESTION]
        )
    if TargetType.ANSWER in ids:
        targets[TargetType.ANSWER] = Answer.objects.select_related("question", "lawyer").in_bulk(
            ids[TargetType.ANSWER]
        )
    if TargetType.LAWYER in ids:
        targets[TargetType.LAWYER] = User.objects.in_bulk(ids[TargetType.LAWYER])
    if TargetType.MESSAGE in ids:
        targets[TargetType.MESSAGE] = (
            Message.objects.select_related("sender").defer("body").in_bulk(ids[TargetType.MESSAGE])
        )
    for group in groups.values():
        group.target = targets.get(group.target_type, {}).get(group.target_id)
    return sorted(groups.values(), key=lambda g: (-len(g.reports), g.first.created_at))


REPORTED_EXCERPT_CHARS = 80


def report_target_named(*, reporter: User, target_type: str, target_id: int) -> str:
    """What the report form names, as the reporter may see it elsewhere: a question's title
    and an answer's opening words (masked as on the public pages), a lawyer's name when the
    lawyer is listed publicly or consulted the reporter ("" otherwise, and for messages, which
    the form quotes). The caller has already checked that the reporter may report it."""
    if target_type == TargetType.QUESTION:
        title = public_questions().filter(pk=target_id).values_list("title", flat=True).first()
        return mask_personal_data(title or "")
    if target_type == TargetType.ANSWER:
        body = visible_answers().filter(pk=target_id).values_list("body", flat=True).first()
        text = " ".join(mask_personal_data(body or "").split())
        if len(text) > REPORTED_EXCERPT_CHARS:
            text = text[: REPORTED_EXCERPT_CHARS - 1] + "…"
        return text
    if target_type == TargetType.LAWYER:
        lawyer = User.objects.filter(pk=target_id).first()
        if lawyer is None or lawyer.is_deleted:
            return ""
        listed = verified_lawyers().filter(user_id=target_id).exists()
        if listed or Consult.objects.filter(asker=reporter, lawyer_id=target_id).exists():
            return lawyer.display_name
    return ""


@dataclass(frozen=True)
class ModerationLogEntry:
    """One thing moderation did: a decision on reports, or one round of an answer's review."""

    at: datetime
    decision: ModerationDecision | None = None
    review: AnswerReview | None = None


def moderation_log(*, limit: int = 20) -> list[ModerationLogEntry]:
    """Report decisions and answer reviews together, newest first: the `limit` newest of each
    kind are read (two queries whatever the number), merged and cut to `limit`."""
    decisions = ModerationDecision.objects.select_related("staff").order_by("-created_at", "-pk")
    edit_rounds = AnswerRevision.objects.filter(
        answer=OuterRef("answer"), number=OuterRef("revision")
    ).values("review_rounds_required")[:1]
    reviews = (
        AnswerReview.objects.select_related("reviewer", "answer__lawyer", "answer__question")
        .defer("answer__body", "answer__question__body", "answer__question__search_vector")
        # the rounds the reviewed text needed: an edit's own, else the answer's
        .annotate(
            rounds_required=Case(
                When(of_edit=True, then=Subquery(edit_rounds)),
                default=F("answer__review_rounds_required"),
            )
        )
        .order_by("-created_at", "-pk")
    )
    entries = [ModerationLogEntry(at=d.created_at, decision=d) for d in decisions[:limit]]
    entries += [ModerationLogEntry(at=r.created_at, review=r) for r in reviews[:limit]]
    entries.sort(key=lambda entry: entry.at, reverse=True)
    return entries[:limit]


# --- sitemap ---------------------------------------------------------------------------
def sitemap_question_count() -> int:
    return public_questions().count()


def sitemap_questions(*, page: int, size: int) -> QuerySet:
    return (
        public_questions()
        .order_by("pk")
        .values_list("pk", "updated_at")[(page - 1) * size : page * size]
    )
