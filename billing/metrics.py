"""Response-time and satisfaction figures, all from server timestamps and real rows.

- The platform's response time is first lawyer reply − queued (what the asker waited).
- A lawyer's own response time runs from *that lawyer's* offer (the accepted offer's
  `created_at`), so a lawyer reached late by a widened search is not blamed for the wait before.
- Time to accept: accepted − queued (platform), offer answered − offer made (lawyer).
- Acceptance rate: accepted / (accepted + declined + expired) offers; revoked offers (another
  lawyer won first) say nothing of this lawyer.
- Satisfaction: ratings of 4 or 5 over all ratings.
Percentiles are PostgreSQL's `percentile_cont` (linear interpolation). No data → None, never a
made-up figure.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import (
    Aggregate,
    Avg,
    Count,
    DateTimeField,
    F,
    FloatField,
    Func,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
)
from django.db.models.functions import Coalesce
from django.utils import timezone

from billing.models import POSITIVE_RATING, Rating
from marketplace.models import Consult, LawyerProfile, Offer


class Seconds(Func):
    """Seconds in an interval (`timestamp - timestamp`), as a float."""

    template = "EXTRACT(EPOCH FROM %(expressions)s)"
    output_field = FloatField()


class PercentileCont(Aggregate):
    function = "PERCENTILE_CONT"
    template = "%(function)s(%(fraction)s) WITHIN GROUP (ORDER BY %(expressions)s)"
    output_field = FloatField()

    def __init__(self, expression: Any, fraction: float, **extra: Any):
        if not 0 <= fraction <= 1:
            raise ValueError("fraction is between 0 and 1")
        super().__init__(expression, fraction=repr(float(fraction)), **extra)


def whole_seconds(value: float | None) -> int | None:
    return None if value is None else int(Decimal(str(value)).quantize(0, ROUND_HALF_UP))


def window_start(*, now: datetime | None = None, days: int | None = None) -> datetime:
    return (now or timezone.now()) - timedelta(days=days or settings.METRICS_WINDOW_DAYS)


def accepted_offer_created_at() -> Subquery:
    return Subquery(
        Offer.objects.filter(
            consult=OuterRef("pk"), state=Offer.State.ACCEPTED, lawyer=OuterRef("lawyer")
        ).values("created_at")[:1],
        output_field=DateTimeField(),
    )


# --- one consult ----------------------------------------------------------------------------------
@dataclass(frozen=True)
class ConsultTimings:
    time_to_accept_seconds: int | None
    time_to_first_reply_seconds: int | None
    # from the accepted lawyer's own offer
    lawyer_time_to_accept_seconds: int | None
    lawyer_response_seconds: int | None


def _between(start: datetime | None, end: datetime | None) -> int | None:
    if start is None or end is None:
        return None
    return whole_seconds((end - start).total_seconds())


def consult_timings(consult: Consult) -> ConsultTimings:
    offer = (
        Offer.objects.filter(consult=consult, state=Offer.State.ACCEPTED)
        .only("created_at", "responded_at")
        .first()
    )
    offered_at = offer.created_at if offer else None
    return ConsultTimings(
        time_to_accept_seconds=_between(consult.queued_at, consult.accepted_at),
        time_to_first_reply_seconds=_between(consult.queued_at, consult.first_reply_at),
        lawyer_time_to_accept_seconds=_between(offered_at, offer.responded_at if offer else None),
        lawyer_response_seconds=_between(offered_at, consult.first_reply_at),
    )


# --- lawyers ----------------------------------------------------------------------------------------
@dataclass(frozen=True)
class ResponseFigures:
    count: int
    p50_seconds: int | None
    p90_seconds: int | None
    avg_seconds: int | None = None


def wait_aggregates(wait: Any, *, prefix: str = "", filter: Q | None = None) -> dict[str, Any]:
    """How many rows, and the p50, p90 and mean of `wait` (seconds; a name or an expression),
    over the rows `filter` keeps: several windows can then share one query, each under its own
    `prefix`."""
    return {
        f"{prefix}n": Count("pk", filter=filter),
        f"{prefix}p50": PercentileCont(wait, 0.5, filter=filter),
        f"{prefix}p90": PercentileCont(wait, 0.9, filter=filter),
        f"{prefix}avg": Avg(wait, filter=filter),
    }


def response_figures_of(row: Mapping[str, Any], *, prefix: str = "") -> ResponseFigures:
    """The figures `wait_aggregates(prefix=prefix)` computed, in whole seconds."""
    return ResponseFigures(
        count=row[f"{prefix}n"],
        p50_seconds=whole_seconds(row[f"{prefix}p50"]),
        p90_seconds=whole_seconds(row[f"{prefix}p90"]),
        avg_seconds=whole_seconds(row[f"{prefix}avg"]),
    )


def _replied_consults(since: datetime, until: datetime | None = None) -> QuerySet[Consult]:
    consults = Consult.objects.filter(replied_since(since))
    if until is not None:
        consults = consults.filter(first_reply_at__lt=until)
    return consults


def lawyer_response_figures(
    *, since: datetime, lawyer_ids: list[int] | None = None
) -> dict[int, ResponseFigures]:
    """Per lawyer, over consults first answered since `since`: seconds from the lawyer's own
    offer to the first reply (from queued when the consult reached the lawyer without an offer,
    e.g. a direct request the marketplace assigned)."""
    consults = _replied_consults(since).filter(lawyer__isnull=False)
    if lawyer_ids is not None:
        consults = consults.filter(lawyer_id__in=lawyer_ids)
    rows = (
        consults.annotate(reached_at=Coalesce(accepted_offer_created_at(), F("queued_at")))
        .annotate(wait=Seconds(F("first_reply_at") - F("reached_at")))
        .values("lawyer_id")
        .annotate(**wait_aggregates("wait"))
        .order_by()
    )
    return {row["lawyer_id"]: response_figures_of(row) for row in rows}


def lawyer_acceptance_rates(
    *, since: datetime, lawyer_ids: list[int] | None = None
) -> dict[int, float]:
    offers = Offer.objects.filter(
        created_at__gte=since,
        state__in=[Offer.State.ACCEPTED, Offer.State.DECLINED, Offer.State.EXPIRED],
    )
    if lawyer_ids is not None:
        offers = offers.filter(lawyer_id__in=lawyer_ids)
    rows = (
        offers.values("lawyer_id")
        .annotate(n=Count("pk"), accepted=Count("pk", filter=Q(state=Offer.State.ACCEPTED)))
        .order_by()
    )
    return {row["lawyer_id"]: round(row["accepted"] / row["n"], 4) for row in rows}


@dataclass(frozen=True)
class RatingFigures:
    count: int
    average: Decimal | None
    positive_rate: float | None


def lawyer_rating_figures(
    *, since: datetime | None = None, lawyer_ids: list[int] | None = None
) -> dict[int, RatingFigures]:
    ratings = Rating.objects.all()
    if since is not None:
        ratings = ratings.filter(created_at__gte=since)
    if lawyer_ids is not None:
        ratings = ratings.filter(lawyer_id__in=lawyer_ids)
    rows = (
        ratings.values("lawyer_id")
        .annotate(
            n=Count("pk"),
            avg=Avg("score"),
            positive=Count("pk", filter=Q(score__gte=POSITIVE_RATING)),
        )
        .order_by()
    )
    return {
        row["lawyer_id"]: RatingFigures(
            count=row["n"],
            average=Decimal(str(row["avg"])).quantize(Decimal("0.01"), ROUND_HALF_UP),
            positive_rate=round(row["positive"] / row["n"], 4),
        )
        for row in rows
    }


@dataclass(frozen=True)
class LawyerFigures:
    response: ResponseFigures
    acceptance_rate: float | None
    ratings: RatingFigures
    window_days: int


def lawyer_figures(*, lawyer_id: int, now: datetime | None = None) -> LawyerFigures:
    since = window_start(now=now)
    return LawyerFigures(
        response=lawyer_response_figures(since=since, lawyer_ids=[lawyer_id]).get(
            lawyer_id, ResponseFigures(0, None, None, None)
        ),
        acceptance_rate=lawyer_acceptance_rates(since=since, lawyer_ids=[lawyer_id]).get(lawyer_id),
        ratings=lawyer_rating_figures(lawyer_ids=[lawyer_id]).get(
            lawyer_id, RatingFigures(0, None, None)
        ),
        window_days=settings.METRICS_WINDOW_DAYS,
    )


def lawyer_profiles_refresh_metrics(*, now: datetime | None = None) -> int:
    """The beat rollup: rating_avg/rating_count (all ratings) and response p50/p90 (the window)
    on every LawyerProfile, written only where they changed. Returns profiles updated."""
    responses = lawyer_response_figures(since=window_start(now=now))
    ratings = lawyer_rating_figures()
    changed: list[LawyerProfile] = []
    fields = ["rating_avg", "rating_count", "response_p50_seconds", "response_p90_seconds"]
    with transaction.atomic():
        profiles = LawyerProfile.objects.only("pk", "user_id", *fields).order_by("pk")
        for profile in profiles.iterator(chunk_size=2000):
            response = responses.get(profile.user_id)
            rating = ratings.get(profile.user_id)
            new = (
                rating.average if rating else None,
                rating.count if rating else 0,
                response.p50_seconds if response else None,
                response.p90_seconds if response else None,
            )
            if new != tuple(getattr(profile, name) for name in fields):
                for name, value in zip(fields, new, strict=True):
                    setattr(profile, name, value)
                changed.append(profile)
        LawyerProfile.objects.bulk_update(changed, fields, batch_size=1000)
    return len(changed)


# --- the platform ----------------------------------------------------------------------------------
def platform_response_wait() -> Seconds:
    """What an asker waited for the first reply (on consults answered and queued)."""
    return Seconds(F("first_reply_at") - F("queued_at"))


def platform_accept_wait() -> Seconds:
    """What an asker waited for a lawyer to accept (on consults accepted and queued)."""
    return Seconds(F("accepted_at") - F("queued_at"))


def replied_since(since: datetime) -> Q:
    """Consults whose platform response time counts from `since` on."""
    return Q(first_reply_at__gte=since, queued_at__isnull=False)


def accepted_since(since: datetime) -> Q:
    """Consults whose platform time to accept counts from `since` on."""
    return Q(accepted_at__gte=since, queued_at__isnull=False)


def platform_response_figures(*, since: datetime, until: datetime | None = None) -> ResponseFigures:
    """What askers waited: queued → first lawyer reply, over consults first answered in
    [since, until)."""
    row = _replied_consults(since, until).aggregate(**wait_aggregates(platform_response_wait()))
    return response_figures_of(row)


def platform_time_to_accept(*, since: datetime) -> ResponseFigures:
    row = Consult.objects.filter(accepted_since(since)).aggregate(
        **wait_aggregates(platform_accept_wait())
    )
    return response_figures_of(row)


def platform_satisfaction(*, since: datetime | None = None) -> RatingFigures:
    ratings = Rating.objects.all()
    if since is not None:
        ratings = ratings.filter(created_at__gte=since)
    row = ratings.aggregate(
        n=Count("pk"), avg=Avg("score"), positive=Count("pk", filter=Q(score__gte=POSITIVE_RATING))
    )
    if not row["n"]:
        return RatingFigures(0, None, None)
    return RatingFigures(
        count=row["n"],
        average=Decimal(str(row["avg"])).quantize(Decimal("0.01"), ROUND_HALF_UP),
        positive_rate=round(row["positive"] / row["n"], 4),
    )
