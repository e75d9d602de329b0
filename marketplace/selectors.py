from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from typing import cast

from django.db import connection
from django.db.models import Count, Prefetch, Q, QuerySet, Value
from django.db.models.functions import Concat
from django.utils import timezone

from accounts.models import User
from config import prepared_sql
from config.errors import NotFound
from marketplace import errors
from marketplace.models import (
    Category,
    Consult,
    LawyerProfile,
    Offer,
    Question,
    Region,
    VerificationDecision,
)
from marketplace.socket_frames import OPEN_STATES, SEARCHING_STATES


def region_list(*, parent: str | None = None) -> QuerySet[Region]:
    """Provinces when no parent is given; otherwise that region's children."""
    if parent:
        return Region.objects.filter(parent_id=parent).order_by("code")
    return Region.objects.filter(level=Region.Level.PROVINCE).order_by("code")


def category_list() -> QuerySet[Category]:
    return Category.objects.all()


def cities_by_province() -> list[tuple[Region, list[Region]]]:
    """Every province with its cities, for region pickers (two queries)."""
    provinces = list(Region.objects.filter(level=Region.Level.PROVINCE).order_by("code"))
    cities: dict[str, list[Region]] = {p.code: [] for p in provinces}
    for city in Region.objects.filter(level=Region.Level.CITY).order_by("code"):
        cities.setdefault(city.parent_id or "", []).append(city)
    return [(p, cities.get(p.code, [])) for p in provinces]


# --- questions ----------------------------------------------------------------------------


def _region_filter(code: str) -> Q:
    region = Region.objects.filter(code=code.strip()).first()
    if region is None:
        raise errors.UnknownRegion(fields={"region": errors.UnknownRegion.message})
    if region.level == Region.Level.CITY:
        return Q(city_id=region.code)
    if region.level == Region.Level.PROVINCE:
        return Q(city__parent_id=region.code)
    return Q()


def _category_filter(slug: str) -> Q:
    category = Category.objects.filter(slug=slug.strip()).first()
    if category is None:
        raise errors.UnknownCategory(fields={"category": errors.UnknownCategory.message})
    return Q(category_id=category.pk)


def question_list(
    *,
    region: str | None = None,
    category: str | None = None,
    text: str | None = None,
    asker: User | None = None,
) -> QuerySet[Question]:
    """Public questions (never private or hidden ones), newest first or by search rank; or,
    with `asker`, that asker's own questions, private ones included."""
    from qa.search import search_questions

    if asker is not None:
        questions = Question.objects.filter(asker=asker)
    else:
        questions = Question.objects.filter(is_public=True).exclude(status=Question.Status.HIDDEN)
    if region:
        questions = questions.filter(_region_filter(region))
    if category:
        questions = questions.filter(_category_filter(category))
    questions = questions.select_related("category", "city", "asker")
    if text and text.strip():
        return search_questions(questions, text)
    return questions.order_by("-created_at", "-pk")


def question_for_viewer(*, question_id: int, user: User | None) -> Question:
    """A public question for anyone; a private (or hidden) one only for its asker."""
    question = (
        Question.objects.select_related("category", "city", "asker").filter(pk=question_id).first()
    )
    if question is None:
        raise NotFound()
    is_asker = user is not None and user.is_authenticated and question.asker_id == user.pk
    if is_asker:
        return question
    if not question.is_public or question.status == Question.Status.HIDDEN:
        raise NotFound()
    return question


# --- consults ------------------------------------------------------------------------------


def _consults_with_details() -> QuerySet[Consult]:
    return Consult.objects.select_related(
        "question__category", "question__city", "lawyer", "asker", "payment"
    ).annotate(
        live_offers=Count(
            "offers",
            filter=Q(offers__state=Offer.State.PENDING, offers__expires_at__gt=timezone.now()),
        )
    )


def consult_for_participant(*, consult_id: int, user: User) -> Consult:
    """The consult for its asker or its lawyer; anyone else learns nothing (404)."""
    consult = (
        _consults_with_details()
        .filter(pk=consult_id)
        .filter(Q(asker_id=user.pk) | Q(lawyer_id=user.pk))
        .first()
    )
    if consult is None:
        raise NotFound()
    return consult


def consult_list_for_user(*, user: User, open_only: bool = False) -> QuerySet[Consult]:
    consults = _consults_with_details().filter(Q(asker_id=user.pk) | Q(lawyer_id=user.pk))
    if open_only:
        consults = consults.filter(state__in=OPEN_STATES)
    return consults.order_by("-created_at", "-pk")


def asker_open_consults(*, asker_id: int) -> list[Consult]:
    """An asker's open consults with their live offer count (for `consult.updated` on
    connect/resume). One query."""
    now = timezone.now()
    return list(
        Consult.objects.filter(asker_id=asker_id, state__in=OPEN_STATES)
        .annotate(
            live_offers=Count(
                "offers",
                filter=Q(offers__state=Offer.State.PENDING, offers__expires_at__gt=now),
            )
        )
        .order_by("created_at")
    )


# --- offers --------------------------------------------------------------------------------


# The queue is read on every fetch of GET /lawyer/queue and on every lawyer socket's connect
# and resume; composed by the ORM (four joins) it cost more CPU than PostgreSQL spent running
# it, so it is a fixed statement, prepared (config/prepared_sql.py; it stays in query logs
# and counts).
_LIVE_OFFER_PARTS = (
    (Offer, "o", ()),
    (Consult, "c", ()),
    (Question, "q", ("body", "search_vector")),
    (Category, "g", ()),
    (Region, "r", ()),
)


@lru_cache(maxsize=1)
def _live_offers_sql() -> tuple[str, tuple[tuple[str, ...], ...]]:
    quote = connection.ops.quote_name
    columns, attnames = prepared_sql.model_columns(_LIVE_OFFER_PARTS)
    sql = (
        f"SELECT {', '.join(columns)}"  # noqa: S608 - names from the models
        f" FROM {quote(Offer._meta.db_table)} o"
        f" JOIN {quote(Consult._meta.db_table)} c ON c.id = o.consult_id"
        f" JOIN {quote(Question._meta.db_table)} q ON q.id = c.question_id"
        f" JOIN {quote(Category._meta.db_table)} g ON g.id = q.category_id"
        f" JOIN {quote(Region._meta.db_table)} r ON r.code = q.city_id"
        " WHERE o.lawyer_id = %s AND o.state = %s AND o.expires_at > %s"
        " ORDER BY o.created_at, o.id"
    )
    return sql, attnames


def lawyer_live_offers(*, lawyer_id: int, now: datetime | None = None) -> list[Offer]:
    """The lawyer's queue: offers still open, oldest first, with what the frames and the API
    show of their consult (its question without body, the category and city). One query."""
    sql, attnames = _live_offers_sql()
    rows = prepared_sql.fetch_all(
        sql, [lawyer_id, Offer.State.PENDING, now or timezone.now()], logged=True
    )
    offers = []
    for row in rows:
        offer, consult, question, category, city = prepared_sql.instances_from_row(
            _LIVE_OFFER_PARTS, attnames, row
        )
        question = cast(Question, question)
        question.category, question.city = cast(Category, category), cast(Region, city)
        consult = cast(Consult, consult)
        consult.question = question
        offer = cast(Offer, offer)
        offer.consult = consult
        offers.append(offer)
    return offers


# --- lawyers ------------------------------------------------------------------------------


def lawyer_public_profile(*, lawyer_id: int) -> LawyerProfile:
    """A verified lawyer's public profile; anyone else's is a 404."""
    profile = (
        LawyerProfile.objects.filter(
            user_id=lawyer_id,
            user__is_active=True,
            verification=LawyerProfile.Verification.VERIFIED,
        )
        .select_related("user", "home_city")
        .prefetch_related("regions_served", "categories")
        .first()
    )
    if profile is None:
        raise NotFound()
    return profile


def lawyer_own_profile(*, lawyer: User) -> LawyerProfile:
    profile = (
        LawyerProfile.objects.filter(user=lawyer)
        .select_related("user", "home_city")
        .prefetch_related(
            "regions_served",
            "categories",
            Prefetch(
                "verification_decisions",
                queryset=VerificationDecision.objects.order_by("-decided_at", "-pk"),
            ),
        )
        .first()
    )
    if profile is None:
        raise NotFound()
    return profile


def verification_queue(*, status: str = LawyerProfile.Verification.PENDING) -> QuerySet:
    """Profiles in a verification status, the longest waiting first (staff)."""
    return (
        LawyerProfile.objects.filter(verification=status)
        .select_related("user", "home_city")
        .prefetch_related("categories", "regions_served")
        .order_by("submitted_at", "pk")
    )


# the statuses staff list lawyers by (an unsubmitted profile has nothing to decide on)
STAFF_LAWYER_STATUSES = (
    LawyerProfile.Verification.PENDING,
    LawyerProfile.Verification.VERIFIED,
    LawyerProfile.Verification.REJECTED,
)


def lawyers_for_staff(*, status: str = "", search: str = "") -> QuerySet[LawyerProfile]:
    """Lawyers who submitted a license number, for staff: in one verification status (all of
    them when empty), whose name, username or license number contains `search`; the latest
    submitted first. Each with its user, home city, practice areas and every verification
    decision (newest first, with who decided)."""
    profiles = LawyerProfile.objects.filter(verification__in=STAFF_LAWYER_STATUSES)
    if status:
        profiles = profiles.filter(verification=status)
    search = search.strip()
    if search:
        # Chinese names read family name first with no space (User.display_name)
        profiles = profiles.annotate(
            family_first=Concat("user__last_name", "user__first_name"),
            given_first=Concat("user__first_name", Value(" "), "user__last_name"),
        ).filter(
            Q(license_number__icontains=search)
            | Q(user__username__icontains=search)
            | Q(family_first__icontains=search)
            | Q(given_first__icontains=search)
        )
    return (
        profiles.select_related("user", "home_city")
        .prefetch_related(
            "categories",
            Prefetch(
                "verification_decisions",
                queryset=VerificationDecision.objects.select_related("decided_by").order_by(
                    "-decided_at", "-pk"
                ),
            ),
        )
        .order_by("-submitted_at", "-pk")
    )


@dataclass(frozen=True)
class SearchState:
    scope: str
    offered: int
    round: int


def search_state(consult: Consult) -> SearchState | None:
    """Needs `live_offers` annotated (the consult selectors above do it)."""
    if consult.state not in SEARCHING_STATES:
        return None
    return SearchState(
        scope=consult.search_scope,
        offered=getattr(consult, "live_offers", 0),
        round=consult.search_round,
    )
