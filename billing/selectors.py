"""Billing's reads: payments, earnings, the public figures and the staff dashboard."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

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


def waiting_consults(*, now: datetime) -> dict[str, Any]:
    waiting = Consult.objects.filter(
        state__in=[Consult.State.QUEUED, Consult.State.OFFERED], queued_at__isnull=False
    )
    listed = waiting.select_related("question__city", "question__category").order_by("queued_at")[
        :WAITING_LISTED
    ]
    counts = waiting.aggregate(
        n=Count("pk"),
        at_risk=Count("pk", filter=Q(sla_deadline__lte=now + timedelta(seconds=120))),
    )
    return {
        "count": counts["n"],
        "at_risk": counts["at_risk"],
        "oldest": [
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
                    int((consult.sla_deadline - now).total_seconds())
                    if consult.sla_deadline
                    else None
                ),
            }
            for consult in listed
            if consult.queued_at is not None
        ],
    }


def _response_block(figures: metrics.ResponseFigures) -> dict[str, Any]:
    return {
        "count": figures.count,
        "p50_seconds": figures.p50_seconds,
        "p90_seconds": figures.p90_seconds,
        "avg_seconds": figures.avg_seconds,
    }


def sla_breaches(*, today: datetime, week: datetime) -> dict[str, int]:
    row = Consult.objects.filter(expired_at__gte=week).aggregate(
        week=Count("pk"), today=Count("pk", filter=Q(expired_at__gte=today))
    )
    return {"today": row["today"], "last_7_days": row["week"]}


def revenue(*, since: datetime) -> list[dict[str, Any]]:
    """Per currency: captured in the period (gross), the platform's fee, lawyers' share, and
    refunds made in the period."""
    figures: dict[str, dict[str, int]] = {}

    def of(currency: str) -> dict[str, int]:
        return figures.setdefault(
            currency,
            {
                "gross": 0,
                "payments": 0,
                "platform_fees": 0,
                "lawyer_earnings": 0,
                "refunded": 0,
            },
        )

    for paid in (
        Payment.objects.filter(captured_at__gte=since)
        .values("currency")
        .annotate(gross=Sum("amount"), payments=Count("pk"))
        .order_by()
    ):
        of(paid["currency"]).update(gross=paid["gross"], payments=paid["payments"])
    for entry in (
        LedgerEntry.objects.filter(created_at__gte=since)
        .values("currency")
        .annotate(
            fees=Sum("amount", filter=Q(kind=LedgerEntry.Kind.PLATFORM_FEE), default=0),
            earnings=Sum("amount", filter=Q(kind=LedgerEntry.Kind.LAWYER_EARNING), default=0),
        )
        .order_by()
    ):
        of(entry["currency"]).update(platform_fees=entry["fees"], lawyer_earnings=entry["earnings"])
    for back in (
        Payment.objects.filter(refunded_at__gte=since)
        .values("currency")
        .annotate(refunded=Sum("amount"))
        .order_by()
    ):
        of(back["currency"])["refunded"] = back["refunded"]
    return [{"currency": currency, **figures[currency]} for currency in sorted(figures)]


def consult_funnel(*, since: datetime) -> dict[str, int]:
    """Consults created since `since`, and how far they got."""
    return Consult.objects.filter(created_at__gte=since).aggregate(
        created=Count("pk"),
        queued=Count("pk", filter=Q(queued_at__isnull=False)),  # entered matching, free or paid
        paid=Count("pk", filter=Q(is_paid=True, paid_at__isnull=False)),
        offered=Count("pk", filter=Q(first_offered_at__isnull=False)),
        accepted=Count("pk", filter=Q(accepted_at__isnull=False)),
        answered=Count("pk", filter=Q(first_reply_at__isnull=False)),
        resolved=Count("pk", filter=Q(state=Consult.State.RESOLVED)),
        rated=Count("pk", filter=Q(rating__isnull=False)),
        expired=Count("pk", filter=Q(state=Consult.State.EXPIRED)),
        canceled=Count("pk", filter=Q(state=Consult.State.CANCELED)),
        refunded=Count("pk", filter=Q(state=Consult.State.REFUNDED)),
    )


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
    now = now or timezone.now()
    today = _start_of_today(now)
    week = now - timedelta(days=7)
    return {
        "generated_at": now.isoformat(),
        "online": online_by_region(),
        "waiting": waiting_consults(now=now),
        "response": {
            "today": _response_block(metrics.platform_response_figures(since=today)),
            "last_7_days": _response_block(metrics.platform_response_figures(since=week)),
        },
        "time_to_accept": {
            "today": _response_block(metrics.platform_time_to_accept(since=today)),
            "last_7_days": _response_block(metrics.platform_time_to_accept(since=week)),
        },
        "sla_breaches": sla_breaches(today=today, week=week),
        "revenue": {
            "today": revenue(since=today),
            "last_7_days": revenue(since=week),
            "last_30_days": revenue(since=now - timedelta(days=30)),
        },
        "funnel_7_days": consult_funnel(since=week),
        "satisfaction_7_days": _satisfaction_block(metrics.platform_satisfaction(since=week)),
    }


def _satisfaction_block(figures: metrics.RatingFigures) -> dict[str, Any]:
    return {
        "count": figures.count,
        "average": str(figures.average) if figures.average is not None else None,
        "positive_rate": figures.positive_rate,
    }
