"""Finding lawyers for a consult and offering it to them (DESIGN.md, flow 1).

A matching pass (`match_consult`) reads the consult without a lock, picks candidates
(verified, online and not away, serving the consult's city, then province, then the nation;
practising its category; below capacity; priced at or below the consult; not offered this
consult before), ranks them (`marketplace.ranking`), and offers the consult to the
best few at once, each offer with an expiry, in one statement that applies only while the
consult is as the pass read it (`consult_states.consult_offer`; a pass that lost a race reads
again). The offered lawyers' sockets get `offer.new` and the asker's `consult.updated` after
commit.

Passes are triggered by: a consult entering `queued` (created free, paid, or every offer gone),
a decline (top up), a fitting lawyer coming online or freeing a seat (`match_for_lawyer`), and
beat (`sweep_waiting`: a search that waited long enough widens, and a queued consult whose
trigger was lost gets its pass anyway). `expire_due_offers` (beat) revokes
offers nobody accepted in time and sends the consult back to `queued` one scope wider.

Idempotent: a pass that made offers bumps `search_round`, and a task carrying an older round
does nothing, so a task delivered twice makes one set of offers.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import lru_cache
from typing import cast

from django.conf import settings
from django.db import InterfaceError, OperationalError, connection, transaction
from django.db.models import Count, Exists, IntegerField, OuterRef, Q, Subquery
from django.db.models.functions import Coalesce
from django.utils import timezone
from redis.exceptions import RedisError

from accounts.realtime import push_to_users_on_commit
from config import prepared_sql
from marketplace import consult_states, presence, ranking, socket_frames
from marketplace.models import Category, Consult, LawyerProfile, Offer, Question, Region

logger = logging.getLogger(__name__)

Scope = Consult.Scope
SEARCHING = (Consult.State.QUEUED, Consult.State.OFFERED)
SCOPE_ORDER = (Scope.CITY, Scope.PROVINCE, Scope.NATION)
SYSTEMIC_ERRORS = (RedisError, OperationalError, InterfaceError)
ServedRegion = LawyerProfile.regions_served.through
LawyerCategory = LawyerProfile.categories.through


@dataclass
class MatchResult:
    offer_ids: list[int] = field(default_factory=list)
    scope: str | None = None
    offered: int = 0  # live offers after the pass
    skipped: str = ""  # why nothing was done ("stale round", "not searching", ...)


def next_scope(scope: str) -> str:
    index = SCOPE_ORDER.index(Scope(scope))
    return SCOPE_ORDER[min(index + 1, len(SCOPE_ORDER) - 1)]


def widen_waits() -> dict[str, int]:
    return {
        Scope.CITY: settings.MATCH_WIDEN_TO_PROVINCE_SECONDS,
        Scope.PROVINCE: settings.MATCH_WIDEN_TO_NATION_SECONDS,
    }


def scope_due(consult: Consult, now: datetime) -> tuple[str, datetime]:
    """The scope a queued consult should search now, and since when: a search that found
    nobody widens after the configured wait at each scope."""
    scope = consult.search_scope
    since = consult.scope_widened_at or consult.queued_at or now
    if consult.state != Consult.State.QUEUED:
        return scope, since
    waits = widen_waits()
    while scope in waits and now - since >= timedelta(seconds=waits[scope]):
        since += timedelta(seconds=waits[scope])
        scope = next_scope(scope)
    return scope, since


# --- candidates --------------------------------------------------------------------------------


def _active_consults() -> Coalesce:
    return Coalesce(
        Subquery(
            Consult.objects.filter(lawyer_id=OuterRef("user_id"), state=Consult.State.ACTIVE)
            .order_by()
            .values("lawyer_id")
            .annotate(n=Count("pk"))
            .values("n"),
            output_field=IntegerField(),
        ),
        0,
    )


# The candidate query is on the post → offer.new hot path, so it is one SQL statement with
# fixed text instead of an ORM queryset that costs milliseconds of CPU to compile on every
# pass. Table names come from the models. It starts from the few lawyers who serve the
# consult's region at this scope (`pool`, materialised, and each profile looked up by its key
# from there: the planner cannot turn it into a scan of every profile, each with its capacity
# subquery, as it did), then applies the rest.
_CANDIDATES_SQL = """
WITH pool AS MATERIALIZED (
    -- a city search: regions_served holds the city itself or its whole province
    SELECT s.lawyerprofile_id AS id FROM {served} s
     WHERE %(scope)s = 'city' AND s.region_id IN (%(city)s, %(province)s)
    -- a province search: serves the province or any of its cities, or lives there
    UNION
    SELECT s.lawyerprofile_id FROM {served} s JOIN {region} r ON r.code = s.region_id
     WHERE %(scope)s = 'province' AND (r.code = %(province)s OR r.parent_id = %(province)s)
    UNION
    SELECT p.id FROM {profile} p JOIN {region} home ON home.code = p.home_city_id
     WHERE %(scope)s = 'province' AND home.parent_id = %(province)s
    -- a nationwide search: anyone (among `only` when given)
    UNION
    SELECT p.id FROM {profile} p
     WHERE %(scope)s = 'nation'
       AND (%(only)s::bigint[] IS NULL OR p.user_id = ANY(%(only)s::bigint[]))
)
SELECT * FROM (
    SELECT p.user_id,
           EXISTS (SELECT 1 FROM {served} s
                    WHERE s.lawyerprofile_id = p.id AND s.region_id = %(city)s) AS serves_city,
           EXISTS (SELECT 1 FROM {served} s
                    WHERE s.lawyerprofile_id = p.id AND s.region_id = %(province)s)
               AS serves_province,
           home.parent_id AS home_province,
           (SELECT count(*) FROM {practised} c WHERE c.lawyerprofile_id = p.id)
               AS category_count,
           p.response_p50_seconds, p.rating_avg, p.rating_count,
           (SELECT count(*) FROM {consult} k
             WHERE k.lawyer_id = p.user_id AND k.state = 'active') AS active_consults,
           p.capacity
      FROM pool
     CROSS JOIN LATERAL (SELECT * FROM {profile} p WHERE p.id = pool.id OFFSET 0) AS p
      JOIN {user} u ON u.id = p.user_id AND u.is_active
      LEFT JOIN {region} home ON home.code = p.home_city_id
     WHERE p.verification = 'verified'
       AND p.user_id <> %(asker)s
       -- priced at or below the consult; a free consult only to lawyers whose price is 0
       AND (CASE WHEN %(price)s = 0 THEN p.price = 0
                 ELSE p.price <= %(price)s AND p.currency = %(currency)s END)
       AND NOT EXISTS (SELECT 1 FROM {offer} o
                        WHERE o.consult_id = %(consult)s AND o.lawyer_id = p.user_id)
       AND (%(any_category)s OR EXISTS (
            SELECT 1 FROM {practised} c
             WHERE c.lawyerprofile_id = p.id AND c.category_id = %(category)s))
       AND (%(only)s::bigint[] IS NULL OR p.user_id = ANY(%(only)s::bigint[]))
     OFFSET 0  -- every filter above before the capacity subquery below
) AS candidate
WHERE active_consults < capacity
"""
CANDIDATE_FIELDS = (
    "user_id",
    "serves_city",
    "serves_province",
    "home_province",
    "category_count",
    "response_p50_seconds",
    "rating_avg",
    "rating_count",
    "active_consults",
    "capacity",
)


@lru_cache(maxsize=1)
def _candidates_sql() -> str:
    from accounts.models import User
    from marketplace.models import Region

    return _CANDIDATES_SQL.format(
        profile=LawyerProfile._meta.db_table,
        served=ServedRegion._meta.db_table,
        practised=LawyerCategory._meta.db_table,
        consult=Consult._meta.db_table,
        offer=Offer._meta.db_table,
        region=Region._meta.db_table,
        user=User._meta.db_table,
    )


def candidate_rows(
    consult: Consult,
    scope: str,
    *,
    only: Iterable[int] | None = None,
    any_category: bool = False,
) -> list[dict]:
    """Lawyers who may be offered this consult at `scope`: verified, active, not the asker,
    priced at or below it, below capacity, practising its category, serving its region, and
    not offered it before (`only`: among these lawyer ids). Presence is not checked here.
    Needs consult.question.city loaded."""
    question = consult.question
    params = {
        "city": question.city_id,
        "province": question.city.parent_id,
        "asker": consult.asker_id,
        "price": consult.price,
        "currency": consult.currency,
        "consult": consult.pk,
        "any_category": any_category,
        "category": question.category_id,
        "scope": str(scope),
        "only": None if only is None else list(only),
    }
    rows = prepared_sql.fetch_all(_candidates_sql(), params)
    return [dict(zip(CANDIDATE_FIELDS, row, strict=True)) for row in rows]


def _as_candidate(row: dict, province_id: str | None) -> ranking.Candidate:
    if row["serves_city"]:
        closeness = ranking.SERVES_CITY
    elif row["serves_province"]:
        closeness = ranking.SERVES_PROVINCE
    elif province_id and row["home_province"] == province_id:
        closeness = ranking.IN_PROVINCE
    else:
        closeness = ranking.ELSEWHERE
    return ranking.Candidate(
        lawyer_id=row["user_id"],
        closeness=closeness,
        category_count=row["category_count"],
        response_p50_seconds=row["response_p50_seconds"],
        rating_avg=float(row["rating_avg"]) if row["rating_avg"] is not None else None,
        rating_count=row["rating_count"],
        active_consults=row["active_consults"],
        capacity=row["capacity"],
    )


def find_candidates(consult: Consult, scope: str) -> list[ranking.Candidate]:
    """Candidates who are also online and not away. City and province searches filter in SQL
    first (few rows) and then ask Redis about those lawyers; a nationwide search asks Redis who
    is online first and filters those in SQL. Either way: one query, one Redis round trip."""
    if scope == Scope.NATION:
        available = presence.available_lawyer_ids()
        if not available:
            return []
        rows = candidate_rows(consult, scope, only=available)
    else:
        rows = candidate_rows(consult, scope)
        online = presence.available_among(row["user_id"] for row in rows)
        rows = [row for row in rows if row["user_id"] in online]
    province_id = consult.question.city.parent_id
    return [_as_candidate(row, province_id) for row in rows]


def ready_in_city(
    *, city: Region, category: Category, price: int, currency: str, asker_id: int | None
) -> int:
    """How many lawyers the city stage would offer such a consult right now: the candidate
    filter of a real pass (verified, serving the city, practising the category, priced for
    it, below capacity) and online, not away. Asked before the consult exists."""
    question = Question(city=city, category=category)
    consult = Consult(question=question, price=price, currency=currency, asker_id=asker_id or 0)
    return len(find_candidates(consult, Scope.CITY))


def requested_lawyer_candidate(consult: Consult) -> ranking.Candidate | None:
    """The lawyer the asker named, when offerable, online and not offered this consult yet.
    Region and category do not apply: the asker chose this lawyer."""
    lawyer_id = consult.requested_lawyer_id
    if lawyer_id is None:
        return None
    if lawyer_id not in presence.available_among([lawyer_id]):
        return None
    rows = candidate_rows(consult, Scope.NATION, only=[lawyer_id], any_category=True)
    if not rows:
        return None
    return _as_candidate(rows[0], consult.question.city.parent_id)


# --- the matching pass -----------------------------------------------------------------------


# The consult with what a pass reads of its question (not the body or the search vector),
# category and city: one fixed statement, as the candidate query, instead of an ORM
# select_related compiled on every pass. (model, table alias, fields not read)
_READ_PARTS = (
    (Consult, "c", ()),
    (Question, "q", ("body", "search_vector")),
    (Category, "g", ()),
    (Region, "r", ()),
)


@lru_cache(maxsize=1)
def _read_for_matching_sql() -> tuple[str, tuple[tuple[str, ...], ...]]:
    quote = connection.ops.quote_name
    columns, attnames = prepared_sql.model_columns(_READ_PARTS)
    sql = (
        f"SELECT {', '.join(columns)}"  # noqa: S608 - names from the models
        f" FROM {quote(Consult._meta.db_table)} c"
        f" JOIN {quote(Question._meta.db_table)} q ON q.id = c.question_id"
        f" JOIN {quote(Category._meta.db_table)} g ON g.id = q.category_id"
        f" JOIN {quote(Region._meta.db_table)} r ON r.code = q.city_id"
        " WHERE c.id = %s"
    )
    return sql, attnames


def _read_for_matching(consult_id: int) -> Consult | None:
    """The consult with consult.question.category and consult.question.city loaded; None when
    there is no such consult."""
    sql, attnames = _read_for_matching_sql()
    rows = prepared_sql.fetch_all(sql, [consult_id])
    if not rows:
        return None
    (row,) = rows
    instances = prepared_sql.instances_from_row(_READ_PARTS, attnames, row)
    consult, question = cast(Consult, instances[0]), cast(Question, instances[1])
    question.category = cast(Category, instances[2])
    question.city = cast(Region, instances[3])
    consult.question = question
    return consult


@lru_cache(maxsize=1)
def _note_search_sql() -> str:
    table = connection.ops.quote_name(Consult._meta.db_table)
    return (
        f"UPDATE {table}"  # noqa: S608 - names from the model
        " SET matched_at = %(matched)s, search_scope = %(scope)s, scope_widened_at = %(widened)s"
        " WHERE id = %(consult)s AND state = %(seen)s AND search_round = %(round)s"
        " RETURNING id"
    )


def _note_search(consult: Consult) -> bool:
    """A pass that offered nothing still records when it looked and a widened scope, if the
    consult is still as it read it (False: it moved on, nothing written)."""
    params = {
        "matched": consult.matched_at,
        "scope": str(consult.search_scope),
        "widened": consult.scope_widened_at,
        "consult": consult.pk,
        "seen": str(consult.state),
        "round": consult.search_round,
    }
    return bool(prepared_sql.fetch_all(_note_search_sql(), params))


def live_offer_count(consult: Consult, now: datetime) -> int:
    return Offer.objects.filter(
        consult_id=consult.pk, state=Offer.State.PENDING, expires_at__gt=now
    ).count()


# How often a pass reads again when the consult moved on between its read and its write.
PASS_ATTEMPTS = 3


def match_consult(*, consult_id: int, search_round: int | None = None) -> MatchResult:
    """One matching pass for a consult (see the module docstring). `search_round` is the round
    the trigger saw; a pass for an older round does nothing. None: always run (top-ups).

    Reads without a lock, then writes in one statement that applies only if the consult is
    still in the state and round it read; one that lost that race (another pass, an accept, a
    cancel in between) reads again."""
    for _ in range(PASS_ATTEMPTS):
        result = _match_once(consult_id, search_round)
        if result is not None:
            return result
    # a queued consult gets the sweep's pass; an offered one, the next decline's or expiry's
    logger.warning("matching pass for consult %s kept losing races; left for later", consult_id)
    return MatchResult(skipped="kept changing")


def _match_once(consult_id: int, search_round: int | None) -> MatchResult | None:
    consult = _read_for_matching(consult_id)
    if consult is None or consult.state not in SEARCHING:
        return MatchResult(skipped="not searching")
    if search_round is not None and consult.search_round != search_round:
        return MatchResult(skipped="stale round", scope=consult.search_scope)
    now = timezone.now()
    # a queued consult holds no live offer (they are all gone before it is queued again)
    live = 0 if consult.state == Consult.State.QUEUED else live_offer_count(consult, now)

    scope, since = scope_due(consult, now)
    scope_changed = scope != consult.search_scope
    consult.matched_at = now
    if scope_changed:
        consult.search_scope = scope
        consult.scope_widened_at = since

    chosen: list[ranking.Ranked] = []
    named = requested_lawyer_candidate(consult)
    if named is not None:
        chosen.append(ranking.Ranked(named, ranking.PREFERRED_SCORE))
    # the named lawyer's first offer is theirs alone; later they only go first
    exclusive = named is not None and consult.first_offered_at is None
    wanted = settings.MATCH_OFFER_TOP_K - live - len(chosen)
    if not exclusive and wanted > 0:
        others = [
            c
            for c in find_candidates(consult, scope)
            if named is None or c.lawyer_id != named.lawyer_id
        ]
        chosen += ranking.rank(others, limit=wanted)

    if not chosen:
        if not _note_search(consult):
            return None
        if scope_changed:
            push_search_update(consult, offered=live)
        return MatchResult(scope=scope, offered=live, skipped="no candidates")

    offered = live + len(chosen)
    offers = consult_states.consult_offer(
        consult,
        ranked=[(ranked.candidate.lawyer_id, ranked.score) for ranked in chosen],
        expires_at=now + timedelta(seconds=settings.MATCH_OFFER_TTL_SECONDS),
        offered=offered,
    )
    if offers is None:
        return None
    return MatchResult(offer_ids=[o.pk for o in offers], scope=scope, offered=offered)


def push_search_update(consult: Consult, *, offered: int) -> None:
    """The search changed without a state change: tell the asker."""
    push_to_users_on_commit(
        [consult.asker_id], socket_frames.consult_updated(consult, offered=offered)
    )


# --- lawyers arriving, searches widening, offers expiring ------------------------------------


def match_for_lawyer(*, lawyer_id: int, limit: int = 20) -> int:
    """A lawyer just became available: run a pass for the waiting consults they could take,
    oldest first. Returns the number of offers made to anyone."""
    profile = (
        LawyerProfile.objects.filter(
            user_id=lawyer_id, verification=LawyerProfile.Verification.VERIFIED
        )
        .annotate(active_consults=_active_consults())
        .select_related("home_city")
        .first()
    )
    if profile is None or profile.active_consults >= profile.capacity:
        return 0
    if lawyer_id not in presence.available_among([lawyer_id]):
        return 0
    served = list(profile.regions_served.values_list("code", "level", "parent_id"))
    served_codes = {code for code, _, _ in served}
    provinces = {code for code, level, _ in served if level == 1}
    provinces |= {parent for _, level, parent in served if level == 2 and parent}
    if profile.home_city is not None and profile.home_city.parent_id:
        provinces.add(profile.home_city.parent_id)
    category_ids = list(profile.categories.values_list("pk", flat=True))

    fits_region = (
        Q(search_scope=Scope.NATION)
        | Q(search_scope=Scope.PROVINCE, question__city__parent_id__in=provinces)
        | Q(search_scope=Scope.CITY, question__city_id__in=served_codes)
        | Q(search_scope=Scope.CITY, question__city__parent_id__in=served_codes)
    )
    # consults with no live offer; and those naming this lawyer, even while offered to others
    consults = Consult.objects.filter(
        Q(state=Consult.State.QUEUED) | Q(state__in=SEARCHING, requested_lawyer_id=lawyer_id)
    ).exclude(asker_id=lawyer_id)
    if profile.price == 0:
        consults = consults.filter(price__gte=0)
    else:
        consults = consults.filter(price__gte=profile.price, currency=profile.currency)
    consult_ids = list(
        consults.filter(
            (Q(question__category_id__in=category_ids) & fits_region)
            | Q(requested_lawyer_id=lawyer_id)
        )
        .exclude(Exists(Offer.objects.filter(consult_id=OuterRef("pk"), lawyer_id=lawyer_id)))
        .order_by("queued_at", "pk")
        .values_list("pk", flat=True)[:limit]
    )
    made = 0
    for consult_id in consult_ids:
        made += len(match_consult(consult_id=consult_id).offer_ids)
    return made


def sweep_waiting(*, now: datetime | None = None, limit: int = 500) -> int:
    """Beat: a pass for each queued consult that is due one: its search waited long enough to
    widen, it was never matched (its task was lost with the broker), or nobody looked at it for
    MATCH_RESCAN_SECONDS (a lost trigger). Returns how many consults got a pass."""
    now = now or timezone.now()
    presence.set_waiting(Consult.objects.filter(state=Consult.State.QUEUED).count())
    waits = widen_waits()
    since = Coalesce("scope_widened_at", "queued_at")
    never_matched = Q(
        matched_at__isnull=True,
        queued_at__lte=now - timedelta(seconds=settings.MATCH_SWEEP_SECONDS),
    )
    not_seen_lately = Q(matched_at__lte=now - timedelta(seconds=settings.MATCH_RESCAN_SECONDS))
    widen_city = Q(search_scope=Scope.CITY, since__lte=now - timedelta(seconds=waits[Scope.CITY]))
    widen_province = Q(
        search_scope=Scope.PROVINCE, since__lte=now - timedelta(seconds=waits[Scope.PROVINCE])
    )
    rows = list(
        Consult.objects.filter(state=Consult.State.QUEUED)
        .annotate(since=since)
        .filter(never_matched | not_seen_lately | widen_city | widen_province)
        .order_by("queued_at")
        .values_list("pk", "search_round")[:limit]
    )
    for consult_id, search_round in rows:
        with _one_consult_at_a_time("matching pass", consult_id):
            match_consult(consult_id=consult_id, search_round=search_round)
    return len(rows)


@transaction.atomic
def expire_offers_of(*, consult_id: int, now: datetime) -> int:
    """Expire the consult's offers past their time; when none is left live, the consult goes
    back to `queued` one scope wider (not wider after the named lawyer's own turn)."""
    consult = consult_states.lock_consult(consult_id)
    due = list(
        Offer.objects.filter(
            consult_id=consult_id, state=Offer.State.PENDING, expires_at__lte=now
        ).values_list("pk", "lawyer_id")
    )
    if not due:
        return 0
    Offer.objects.filter(pk__in=[pk for pk, _ in due]).update(state=Offer.State.EXPIRED)
    for offer_id, lawyer_id in due:
        push_to_users_on_commit(
            [lawyer_id],
            socket_frames.offer_revoked(offer_id=offer_id, consult_id=consult_id, reason="expired"),
        )
    remaining = Offer.objects.filter(consult_id=consult_id, state=Offer.State.PENDING).count()
    if consult.state == Consult.State.OFFERED and remaining == 0:
        only_named = all(lawyer_id == consult.requested_lawyer_id for _, lawyer_id in due)
        consult_states.consult_requeue(
            consult_id=consult_id,
            widen_to=None if only_named else next_scope(consult.search_scope),
        )
    elif consult.state in SEARCHING:
        push_search_update(consult, offered=remaining)
        from marketplace.tasks import match_consult as match_task

        match_task.delay_on_commit(consult_id, None)
    return len(due)


def expire_due_offers(*, now: datetime | None = None, limit: int = 500) -> int:
    """Beat: revoke every offer past its expiry, consult by consult (the consult lock is taken
    before its offers', as accepting does). Returns the number of offers expired."""
    now = now or timezone.now()
    consult_ids = list(
        Offer.objects.filter(state=Offer.State.PENDING, expires_at__lte=now)
        .order_by()
        .values_list("consult_id", flat=True)
        .distinct()[:limit]
    )
    expired = 0
    for consult_id in consult_ids:
        with _one_consult_at_a_time("offer expiry", consult_id):
            expired += expire_offers_of(consult_id=consult_id, now=now)
    return expired


@contextmanager
def _one_consult_at_a_time(job: str, consult_id: int) -> Iterator[None]:
    """A beat sweep's step for one consult: a consult whose step fails is logged and left for
    the next sweep, so it cannot hold back every consult after it, sweep after sweep. Redis or
    the database being down fails the whole sweep (every step would fail the same way)."""
    try:
        yield
    except SYSTEMIC_ERRORS:
        raise
    except Exception:
        logger.exception("%s for consult %s failed", job, consult_id)
