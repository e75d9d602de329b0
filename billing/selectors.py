"""Billing's reads: payments, earnings, the public figures and the staff dashboard."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Any, cast

from django.conf import settings
from django.core.cache import cache
from django.db.models import Count, Q, QuerySet, Sum
from django.utils import timezone
from django.utils.translation import pgettext

from accounts.models import User
from billing import metrics
from billing.models import LedgerEntry, Payment
from config.errors import NotFound
from marketplace.models import Consult

RECENT_CONSULTS = 10
WAITING_LISTED = 50


# --- payments --------------------------------------------------------------------------------------
def payment_visible_to(*, payment_id: int, user: User) -> Payment:
    """The asker of the consult, its lawyer and staff see a payment; others get 404."""
    payment = Payment.objects.select_related("consult").filter(pk=payment_id).first()
    if payment is None:
        raise NotFound()
    consult = payment.consult
    if user.pk not in (consult.asker_id, consult.lawyer_id) and not _is_staff(user):
        raise NotFound()
    return payment


def _is_staff(user: User) -> bool:
    return bool(user.is_staff_member)


# --- earnings ---------------------------------------------------------------------------------------
def lawyer_earning_totals(*, lawyer: User) -> list[dict[str, Any]]:
    """Per currency: what was earned, what refunds took back, and the consultations that still
    pay (a refunded one counts under `refunded_consults`, not `consults`)."""
    rows = (
        LedgerEntry.objects.filter(lawyer=lawyer, kind=LedgerEntry.Kind.LAWYER_EARNING)
        .values("currency")
        .annotate(
            earned=Sum("amount", filter=Q(is_reversal=False), default=0),
            reversed=Sum("amount", filter=Q(is_reversal=True), default=0),
            earned_consults=Count("consult", filter=Q(is_reversal=False), distinct=True),
            refunded_consults=Count("consult", filter=Q(is_reversal=True), distinct=True),
        )
        .order_by("currency")
    )
    return [
        {
            "currency": row["currency"],
            "earned": row["earned"],
            "refunded": -row["reversed"],
            "net": row["earned"] + row["reversed"],
            "consults": row["earned_consults"] - row["refunded_consults"],
            "refunded_consults": row["refunded_consults"],
        }
        for row in rows
    ]


def lawyer_pending_earnings(*, lawyer: User) -> list[dict[str, Any]]:
    """Authorised payments of this lawyer's consults: earned once the first reply lands."""
    rows = (
        Payment.objects.filter(consult__lawyer=lawyer, state=Payment.State.AUTHORIZED)
        .values("currency")
        .annotate(amount=Sum("amount"), consults=Count("pk"))
        .order_by("currency")
    )
    return [dict(row) for row in rows]


def lawyer_ledger_entries(*, lawyer: User) -> QuerySet[LedgerEntry]:
    return LedgerEntry.objects.filter(lawyer=lawyer).order_by("-created_at", "-pk")


# --- public figures --------------------------------------------------------------------------------
def lawyers_online_count() -> int:
    from marketplace.presence import lawyers_online

    return lawyers_online()


def ticker_asker(*, city: str) -> str:
    """Who asked, as the public ticker tells it in the reader's language: never a name nor any
    digit of a phone number, only the city of a public question ("济南的用户", "A user in
    Jinan"), or "用户" / "A user"."""
    if city:
        return pgettext("public ticker", "A user in %(city)s") % {"city": city}
    return pgettext("public ticker", "A user")


def recent_consults(*, now: datetime | None = None, limit: int = RECENT_CONSULTS) -> list[dict]:
    """The live ticker: real consults that entered the queue, newest first. The asker is an
    anonymous descriptor (`ticker_asker`); the city only when the question is public.
    `masked_phone` stays in each item for API clients, always empty."""
    now = now or timezone.now()
    consults = (
        Consult.objects.filter(queued_at__isnull=False)
        .select_related("question__city")
        .only(
            "queued_at",
            "question__is_public",
            "question__city__short_zh",
            "question__city__name_en",
        )
        .order_by("-queued_at")[:limit]
    )
    recent = []
    for consult in consults:
        if consult.queued_at is None:
            continue
        city = consult.question.city.name if consult.question.is_public else ""
        recent.append(
            {
                "city": city,
                "asker": ticker_asker(city=city),
                "masked_phone": "",
                "seconds_ago": max(0, int((now - consult.queued_at).total_seconds())),
            }
        )
    return recent


def public_stats(*, now: datetime | None = None) -> dict[str, Any]:
    """`GET /stats/public`. Cached a few seconds: every visitor's home page asks for it."""
    from django.utils.translation import get_language

    key = f"billing:public-stats:{get_language()}"
    if now is None:
        cached = cache.get(key)
        if cached is not None:
            return cached
    moment = now or timezone.now()
    since = metrics.window_start(now=moment)
    response = metrics.platform_response_figures(since=since)
    satisfaction = metrics.platform_satisfaction(since=since)
    stats = {
        "lawyers_online": lawyers_online_count(),
        "avg_first_response_seconds": response.avg_seconds,
        "satisfaction_rate": satisfaction.positive_rate,
        "ratings_count": satisfaction.count,
        "answered_consults": response.count,
        "window_days": settings.METRICS_WINDOW_DAYS,
        "recent": recent_consults(now=moment),
    }
    if now is None:
        cache.set(key, stats, settings.PUBLIC_STATS_CACHE_SECONDS)
    return stats


# --- the staff dashboard ---------------------------------------------------------------------------
def _start_of_today(now: datetime) -> datetime:
    local = timezone.localtime(now)
    return local.replace(hour=0, minute=0, second=0, microsecond=0)


WAITING_STATES = (Consult.State.QUEUED, Consult.State.OFFERED)
# a waiting consult this close to its SLA deadline is "at risk"
AT_RISK = timedelta(seconds=120)


def _waiting() -> Q:
    return Q(state__in=WAITING_STATES, queued_at__isnull=False)


def waiting_oldest(*, now: datetime) -> list[dict[str, Any]]:
    """The consults waiting longest for a lawyer, with what the dashboard shows of each."""
    listed = (
        Consult.objects.filter(_waiting())
        .select_related("question__city", "question__category")
        .only(
            "state",
            "price",
            "currency",
            "search_scope",
            "queued_at",
            "sla_deadline",
            "question__city__short_zh",
            "question__city__name_en",
            "question__category__slug",
        )
        .order_by("queued_at")[:WAITING_LISTED]
    )
    return [
        {
            "id": consult.pk,
            "state": consult.state,
            "city": consult.question.city_id,
            "city_name": consult.question.city.name,
            "category": consult.question.category.slug,
            "price": consult.price,
            "currency": consult.currency,
            "scope": consult.search_scope,
            "age_seconds": int((now - consult.queued_at).total_seconds()),
            "sla_seconds_left": (
                int((consult.sla_deadline - now).total_seconds()) if consult.sla_deadline else None
            ),
        }
        for consult in listed
        if consult.queued_at is not None
    ]


def _response_block(figures: metrics.ResponseFigures) -> dict[str, Any]:
    return {
        "count": figures.count,
        "p50_seconds": figures.p50_seconds,
        "p90_seconds": figures.p90_seconds,
        "avg_seconds": figures.avg_seconds,
    }


def consult_figures(*, now: datetime, windows: dict[str, datetime], week: datetime) -> dict:
    """Every dashboard figure that counts consults, in one query (one scan of the consults any
    figure needs): those waiting now and at risk; per window (name → since), response time and
    time to accept (count, p50, p90, mean) and SLA breaches; and the funnel of consults created
    since `week`."""
    waiting = _waiting()
    created = Q(created_at__gte=week)
    funnel = {
        "created": Q(),
        "queued": Q(queued_at__isnull=False),  # entered matching, free or paid
        "paid": Q(is_paid=True, paid_at__isnull=False),
        "offered": Q(first_offered_at__isnull=False),
        "accepted": Q(accepted_at__isnull=False),
        "answered": Q(first_reply_at__isnull=False),
        "resolved": Q(state=Consult.State.RESOLVED),
        "rated": Q(rating__isnull=False),
        "expired": Q(state=Consult.State.EXPIRED),
        "canceled": Q(state=Consult.State.CANCELED),
        "refunded": Q(state=Consult.State.REFUNDED),
    }
    aggregates: dict[str, Any] = {
        "waiting": Count("pk", filter=waiting),
        "at_risk": Count("pk", filter=waiting & Q(sla_deadline__lte=now + AT_RISK)),
        **{f"funnel_{name}": Count("pk", filter=created & where) for name, where in funnel.items()},
    }
    rows_needed = waiting | created
    for name, since in windows.items():
        replied, accepted = metrics.replied_since(since), metrics.accepted_since(since)
        expired = Q(expired_at__gte=since)
        aggregates |= metrics.wait_aggregates(
            metrics.platform_response_wait(), prefix=f"reply_{name}_", filter=replied
        )
        aggregates |= metrics.wait_aggregates(
            metrics.platform_accept_wait(), prefix=f"accept_{name}_", filter=accepted
        )
        aggregates[f"expired_{name}"] = Count("pk", filter=expired)
        rows_needed |= replied | accepted | expired
    # the waits go into the aggregates as expressions, not annotations: Django would rewrite
    # every aggregate that names an annotation (a third of this function's time, measured)
    row = Consult.objects.filter(rows_needed).aggregate(**aggregates)
    return {
        "waiting": {"count": row["waiting"], "at_risk": row["at_risk"]},
        "response": {
            name: _response_block(metrics.response_figures_of(row, prefix=f"reply_{name}_"))
            for name in windows
        },
        "time_to_accept": {
            name: _response_block(metrics.response_figures_of(row, prefix=f"accept_{name}_"))
            for name in windows
        },
        "sla_breaches": {name: row[f"expired_{name}"] for name in windows},
        "funnel": {name: row[f"funnel_{name}"] for name in funnel},
    }


def revenue(*, periods: dict[str, datetime]) -> dict[str, list[dict[str, Any]]]:
    """Per period (name → since) and currency: captured in the period (gross), the platform's
    fee, lawyers' share, and refunds made in the period. A currency is listed for a period when
    anything of it happened then. Two queries, however many periods: payments and ledger."""
    earliest = min(periods.values())
    payment_sums: dict[str, Any] = {}
    ledger_sums: dict[str, Any] = {}
    for name, since in periods.items():
        captured, refunded = Q(captured_at__gte=since), Q(refunded_at__gte=since)
        entered = Q(created_at__gte=since)
        payment_sums |= {
            f"{name}_gross": Sum("amount", filter=captured, default=0),
            f"{name}_payments": Count("pk", filter=captured),
            f"{name}_refunded": Sum("amount", filter=refunded, default=0),
            f"{name}_refunds": Count("pk", filter=refunded),
        }
        ledger_sums |= {
            f"{name}_fees": Sum(
                "amount", filter=entered & Q(kind=LedgerEntry.Kind.PLATFORM_FEE), default=0
            ),
            f"{name}_earnings": Sum(
                "amount", filter=entered & Q(kind=LedgerEntry.Kind.LAWYER_EARNING), default=0
            ),
            f"{name}_entries": Count("pk", filter=entered),
        }
    figures: dict[str, dict[str, dict[str, int]]] = {name: {} for name in periods}

    def of(name: str, currency: str) -> dict[str, int]:
        return figures[name].setdefault(
            currency,
            {
                "gross": 0,
                "payments": 0,
                "platform_fees": 0,
                "lawyer_earnings": 0,
                "refunded": 0,
            },
        )

    payments = (
        Payment.objects.filter(Q(captured_at__gte=earliest) | Q(refunded_at__gte=earliest))
        .values("currency")
        .annotate(**payment_sums)
        .order_by()
    )
    for row in cast(Iterable[dict[str, Any]], payments):
        for name in periods:
            if row[f"{name}_payments"]:
                of(name, row["currency"]).update(
                    gross=row[f"{name}_gross"], payments=row[f"{name}_payments"]
                )
            if row[f"{name}_refunds"]:
                of(name, row["currency"])["refunded"] = row[f"{name}_refunded"]
    entries = (
        LedgerEntry.objects.filter(created_at__gte=earliest)
        .values("currency")
        .annotate(**ledger_sums)
        .order_by()
    )
    for row in cast(Iterable[dict[str, Any]], entries):
        for name in periods:
            if row[f"{name}_entries"]:
                of(name, row["currency"]).update(
                    platform_fees=row[f"{name}_fees"], lawyer_earnings=row[f"{name}_earnings"]
                )
    return {
        name: [{"currency": currency, **by_currency[currency]} for currency in sorted(by_currency)]
        for name, by_currency in figures.items()
    }


def online_by_region() -> dict[str, Any]:
    """Lawyers online now per province and city (presence in Redis), busiest first."""
    from marketplace.models import Region
    from marketplace.presence import online_by_region as presence_by_region

    online = presence_by_region()
    codes = [*online.provinces, *online.cities]
    regions = {r.code: r for r in Region.objects.filter(code__in=codes)}

    def rows(counts: dict[str, int]) -> list[dict[str, Any]]:
        listed = [
            {
                "code": code,
                "name": regions[code].name if code in regions else code,
                "parent": regions[code].parent_id if code in regions else None,
                "online": count,
            }
            for code, count in counts.items()
        ]
        return sorted(listed, key=lambda row: (-row["online"], row["code"]))

    return {
        "total": online.total,
        "away": online.away,
        "provinces": rows(online.provinces),
        "cities": rows(online.cities),
    }


def admin_dashboard(*, now: datetime | None = None) -> dict[str, Any]:
    """The staff dashboard's figures (`GET /admin/dashboard` and the page). A fixed number of
    queries, whatever the number of rows: region names of who is online, the consults' figures,
    the waiting list, payments, ledger, ratings."""
    now = now or timezone.now()
    today = _start_of_today(now)
    week = now - timedelta(days=7)
    consults = consult_figures(now=now, windows={"today": today, "last_7_days": week}, week=week)
    return {
        "generated_at": now.isoformat(),
        "online": online_by_region(),
        "waiting": {**consults["waiting"], "oldest": waiting_oldest(now=now)},
        "response": consults["response"],
        "time_to_accept": consults["time_to_accept"],
        "sla_breaches": consults["sla_breaches"],
        "revenue": revenue(
            periods={
                "today": today,
                "last_7_days": week,
                "last_30_days": now - timedelta(days=30),
            }
        ),
        "funnel_7_days": consults["funnel"],
        "satisfaction_7_days": _satisfaction_block(metrics.platform_satisfaction(since=week)),
    }


def _satisfaction_block(figures: metrics.RatingFigures) -> dict[str, Any]:
    return {
        "count": figures.count,
        "average": str(figures.average) if figures.average is not None else None,
        "positive_rate": figures.positive_rate,
    }
