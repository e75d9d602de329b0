"""Every figure of the staff dashboard (`admin_dashboard`) equals the same figure worked out here
in Python from the rows themselves, on the demo world (a month of consults, payments, ledger
entries and ratings) plus what the demo lacks: consults waiting now (more than the page lists,
some at risk), breaches today, a cancelled consult, a second currency, and a refund today of a
payment captured long ago. Money stays integer minor units."""

from __future__ import annotations

import io
import math
from datetime import datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

import pytest
from django.utils import timezone

from accounts import demo as accounts_demo
from accounts.models import User
from billing import demo as billing_demo
from billing.metrics import POSITIVE_RATING, whole_seconds
from billing.models import LedgerEntry, Payment, Rating
from billing.selectors import WAITING_LISTED, admin_dashboard
from marketplace import demo as marketplace_demo
from marketplace.models import Category, Consult, Question, Region

pytestmark = pytest.mark.django_db

WAITING = (Consult.State.QUEUED, Consult.State.OFFERED)


# --- the world ------------------------------------------------------------------------------------
def _consults(asker: User, count: int, **fields: Any) -> list[Consult]:
    city = Region.objects.get(code="370100")
    categories = list(Category.objects.order_by("slug"))
    questions = Question.objects.bulk_create(
        Question(
            asker=asker,
            title=f"等待中的咨询 {n}",
            body="正文",
            category=categories[n % len(categories)],
            city=city,
            is_public=False,
        )
        for n in range(count)
    )
    return Consult.objects.bulk_create(
        Consult(question=q, asker=asker, price=4900, currency="CNY", **fields) for q in questions
    )


def _add_what_the_demo_lacks(now: datetime) -> None:
    asker = User.objects.filter(role=User.Role.ASKER).order_by("pk").first()
    assert asker is not None
    # more consults waiting than the page lists, queued and offered, some about to breach
    waiting = _consults(asker, WAITING_LISTED + 7, is_paid=True, state=Consult.State.QUEUED)
    for n, consult in enumerate(waiting):
        consult.state = WAITING[n % 2]
        consult.queued_at = now - timedelta(seconds=11 * n + 3)
        consult.paid_at = consult.queued_at
        consult.sla_deadline = now + timedelta(seconds=(37 * n) % 700 - 100)
    waiting[5].sla_deadline = None
    Consult.objects.bulk_update(waiting, ["state", "queued_at", "paid_at", "sla_deadline"])
    # not waiting: not paid yet, and one in a waiting state that never entered matching
    _consults(asker, 1, is_paid=True, state=Consult.State.PENDING_PAYMENT)
    _consults(asker, 1, is_paid=False, state=Consult.State.QUEUED)
    _consults(asker, 1, is_paid=False, state=Consult.State.CANCELED)
    _consults(asker, 1, is_paid=True, state=Consult.State.REFUNDED)
    # answered and breached a moment ago: "today" has rows even just after midnight
    _consults(
        asker,
        3,
        is_paid=False,
        state=Consult.State.RESOLVED,
        queued_at=now - timedelta(seconds=95),
        first_offered_at=now - timedelta(seconds=90),
        accepted_at=now - timedelta(seconds=2),
        first_reply_at=now - timedelta(seconds=1),
    )
    expired = list(Consult.objects.filter(state=Consult.State.EXPIRED).order_by("pk")[:2])
    assert expired
    Consult.objects.filter(pk__in=[c.pk for c in expired]).update(
        expired_at=now - timedelta(seconds=1)
    )
    # a second currency: the latest payments, with their ledger entries
    usd = list(Payment.objects.order_by("-captured_at", "-pk").values_list("pk", flat=True)[:40])
    Payment.objects.filter(pk__in=usd).update(currency="USD")
    LedgerEntry.objects.filter(payment_id__in=usd).update(currency="USD")
    # a third, only as a refund today of a payment captured six weeks ago
    old = (
        Payment.objects.filter(state=Payment.State.CAPTURED, currency="CNY")
        .order_by("captured_at")
        .first()
    )
    assert old is not None
    Payment.objects.filter(pk=old.pk).update(
        currency="EUR",
        state=Payment.State.REFUNDED,
        captured_at=now - timedelta(days=42),
        refunded_at=now - timedelta(seconds=1),
    )
    LedgerEntry.objects.filter(payment=old).update(
        currency="EUR", created_at=now - timedelta(days=42)
    )
    # refunds just either side of where "today", "7 days" and "30 days" begin
    today = timezone.localtime(now).replace(hour=0, minute=0, second=0, microsecond=0)
    edges = [today, now - timedelta(days=7), now - timedelta(days=30)]
    refunds = Payment.objects.filter(state=Payment.State.CAPTURED, currency="CNY").order_by("pk")
    for payment, at in zip(
        refunds[: 2 * len(edges)],
        [edge + timedelta(seconds=s) for edge in edges for s in (-1, 1)],
        strict=True,
    ):
        Payment.objects.filter(pk=payment.pk).update(state=Payment.State.REFUNDED, refunded_at=at)
    LedgerEntry.objects.bulk_create(
        LedgerEntry(
            payment=old,
            consult_id=old.consult_id,
            lawyer_id=entry.lawyer_id,
            kind=entry.kind,
            is_reversal=True,
            amount=-entry.amount,
            currency="EUR",
        )
        for entry in LedgerEntry.objects.filter(payment=old)
    )


@pytest.fixture
def world() -> datetime:
    out = io.StringIO()
    for demo in (accounts_demo, marketplace_demo, billing_demo):
        demo.seed(out)
    now = timezone.now()
    _add_what_the_demo_lacks(now)
    return now


# --- the same figures, from the rows ---------------------------------------------------------------
def _seconds(delta: timedelta) -> Decimal:
    return Decimal(delta.days * 86400 + delta.seconds) + Decimal(delta.microseconds) / 10**6


def _percentile_cont(values: list[Decimal], fraction: float) -> float:
    """PostgreSQL's percentile_cont: linear interpolation between the two nearest rows, in
    double precision."""
    ordered = sorted(float(v) for v in values)
    position = fraction * (len(ordered) - 1)
    low, high = math.floor(position), math.ceil(position)
    if low == high:
        return ordered[low]
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


def _waits(pairs: list[tuple[datetime, datetime]]) -> dict[str, Any]:
    waits = [_seconds(end - start) for start, end in pairs]
    if not waits:
        return {"count": 0, "p50_seconds": None, "p90_seconds": None, "avg_seconds": None}
    return {
        "count": len(waits),
        "p50_seconds": whole_seconds(_percentile_cont(waits, 0.5)),
        "p90_seconds": whole_seconds(_percentile_cont(waits, 0.9)),
        "avg_seconds": whole_seconds(float(sum(waits) / len(waits))),
    }


def _revenue(since: datetime) -> list[dict[str, Any]]:
    captured = [p for p in Payment.objects.all() if p.captured_at and p.captured_at >= since]
    refunded = [p for p in Payment.objects.all() if p.refunded_at and p.refunded_at >= since]
    entries = [e for e in LedgerEntry.objects.all() if e.created_at >= since]
    currencies = {p.currency for p in captured + refunded} | {e.currency for e in entries}
    return [
        {
            "currency": currency,
            "gross": sum(p.amount for p in captured if p.currency == currency),
            "payments": sum(1 for p in captured if p.currency == currency),
            "platform_fees": sum(
                e.amount for e in entries if e.currency == currency and e.kind == "platform_fee"
            ),
            "lawyer_earnings": sum(
                e.amount for e in entries if e.currency == currency and e.kind == "lawyer_earning"
            ),
            "refunded": sum(p.amount for p in refunded if p.currency == currency),
        }
        for currency in sorted(currencies)
    ]


def expected_figures(now: datetime) -> dict[str, Any]:
    today = timezone.localtime(now).replace(hour=0, minute=0, second=0, microsecond=0)
    week = now - timedelta(days=7)
    consults = list(Consult.objects.select_related("question__city", "question__category"))
    rated = set(Rating.objects.values_list("consult_id", flat=True))
    waiting = sorted(
        ((c.queued_at, c) for c in consults if c.state in WAITING and c.queued_at is not None),
        key=lambda pair: pair[0],
    )
    at_risk = now + timedelta(seconds=120)

    def replied(since: datetime) -> list[tuple[datetime, datetime]]:
        return [
            (c.queued_at, c.first_reply_at)
            for c in consults
            if c.first_reply_at and c.first_reply_at >= since and c.queued_at
        ]

    def accepted(since: datetime) -> list[tuple[datetime, datetime]]:
        return [
            (c.queued_at, c.accepted_at)
            for c in consults
            if c.accepted_at and c.accepted_at >= since and c.queued_at
        ]

    week_consults = [c for c in consults if c.created_at >= week]
    ratings = [r.score for r in Rating.objects.all() if r.created_at >= week]
    positive = sum(1 for score in ratings if score >= POSITIVE_RATING)
    return {
        "waiting": {
            "count": len(waiting),
            "at_risk": sum(1 for _, c in waiting if c.sla_deadline and c.sla_deadline <= at_risk),
            "oldest": [
                {
                    "id": c.pk,
                    "state": c.state,
                    "city": c.question.city_id,
                    "city_name": c.question.city.name,
                    "category": c.question.category.slug,
                    "price": c.price,
                    "currency": c.currency,
                    "scope": c.search_scope,
                    "age_seconds": int((now - queued_at).total_seconds()),
                    "sla_seconds_left": int((c.sla_deadline - now).total_seconds())
                    if c.sla_deadline
                    else None,
                }
                for queued_at, c in waiting[:WAITING_LISTED]
            ],
        },
        "response": {"today": _waits(replied(today)), "last_7_days": _waits(replied(week))},
        "time_to_accept": {
            "today": _waits(accepted(today)),
            "last_7_days": _waits(accepted(week)),
        },
        "sla_breaches": {
            "today": sum(1 for c in consults if c.expired_at and c.expired_at >= today),
            "last_7_days": sum(1 for c in consults if c.expired_at and c.expired_at >= week),
        },
        "revenue": {
            "today": _revenue(today),
            "last_7_days": _revenue(week),
            "last_30_days": _revenue(now - timedelta(days=30)),
        },
        "funnel_7_days": {
            "created": len(week_consults),
            "queued": sum(1 for c in week_consults if c.queued_at),
            "paid": sum(1 for c in week_consults if c.is_paid and c.paid_at),
            "offered": sum(1 for c in week_consults if c.first_offered_at),
            "accepted": sum(1 for c in week_consults if c.accepted_at),
            "answered": sum(1 for c in week_consults if c.first_reply_at),
            "resolved": sum(1 for c in week_consults if c.state == Consult.State.RESOLVED),
            "rated": sum(1 for c in week_consults if c.pk in rated),
            "expired": sum(1 for c in week_consults if c.state == Consult.State.EXPIRED),
            "canceled": sum(1 for c in week_consults if c.state == Consult.State.CANCELED),
            "refunded": sum(1 for c in week_consults if c.state == Consult.State.REFUNDED),
        },
        "satisfaction_7_days": {
            "count": len(ratings),
            "average": str(
                (Decimal(sum(ratings)) / len(ratings)).quantize(Decimal("0.01"), ROUND_HALF_UP)
            )
            if ratings
            else None,
            "positive_rate": round(positive / len(ratings), 4) if ratings else None,
        },
    }


def _money(figures: dict[str, Any]) -> list[Any]:
    return [
        value
        for rows in figures["revenue"].values()
        for row in rows
        for key, value in row.items()
        if key != "currency"
    ] + [row["price"] for row in figures["waiting"]["oldest"]]


def _assert_every_figure_has_rows(figures: dict[str, Any]) -> None:
    """A figure that is zero or empty would pass whatever the code did."""
    assert figures["waiting"]["count"] > len(figures["waiting"]["oldest"]) == WAITING_LISTED
    assert 0 < figures["waiting"]["at_risk"] < figures["waiting"]["count"]
    for block in ("response", "time_to_accept"):
        assert figures[block]["today"]["count"] > 0, block
        assert figures[block]["last_7_days"]["count"] > figures[block]["today"]["count"], block
    assert 0 < figures["sla_breaches"]["today"] < figures["sla_breaches"]["last_7_days"]
    assert "EUR" in {row["currency"] for row in figures["revenue"]["today"]}
    assert {row["currency"] for row in figures["revenue"]["last_30_days"]} == {"CNY", "EUR", "USD"}
    assert all(value for value in figures["funnel_7_days"].values())
    assert figures["satisfaction_7_days"]["count"] > 0


# --- the tests ------------------------------------------------------------------------------------
def test_every_dashboard_figure_equals_the_one_worked_out_from_the_rows(world):
    # given the demo world and what it lacks, at `now`
    now = world
    expected = expected_figures(now)
    _assert_every_figure_has_rows(expected)
    # when
    figures = admin_dashboard(now=now)
    # then each block, one by one (a failure names the block)
    for block, value in expected.items():
        assert figures[block] == value, block
    assert figures["generated_at"] == now.isoformat()


def test_dashboard_money_is_integer_minor_units(world):
    figures = admin_dashboard(now=world)
    money = _money(figures)
    assert money
    assert all(type(value) is int for value in money), {type(v) for v in money}
