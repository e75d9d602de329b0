from __future__ import annotations

from datetime import datetime
from typing import Any

from django.conf import settings
from django.http import HttpRequest
from ninja import Field, Query, Router, Schema
from pydantic import StrictInt

from accounts.api_auth import signed_in
from accounts.models import User
from accounts.roles import require_role, require_staff
from billing import selectors, services
from billing.metrics import lawyer_figures
from billing.models import LedgerEntry, Payment, Rating

router = Router()


def _user(request: HttpRequest) -> User:
    # `signed_in` guarantees an authenticated accounts.User here
    return request.user  # type: ignore[return-value]


class PaymentOut(Schema):
    id: int
    consult: int
    state: str
    amount: int = Field(description="minor units (fen for CNY)")
    currency: str
    gateway: str
    created_at: datetime
    authorized_at: datetime | None
    captured_at: datetime | None
    canceled_at: datetime | None
    refunded_at: datetime | None

    @staticmethod
    def resolve_consult(obj: Payment) -> int:
        return obj.consult_id


class CheckoutOut(Schema):
    payment: PaymentOut
    gateway: str
    # Stripe's client-side card step: the publishable key and the PaymentIntent's secret
    publishable_key: str | None = None
    client_secret: str | None = None


class RefundIn(Schema):
    reason: str = Field("", max_length=200)


class EarningTotalOut(Schema):
    currency: str
    earned: int
    refunded: int
    net: int
    consults: int
    refunded_consults: int


class PendingOut(Schema):
    currency: str
    amount: int
    consults: int


class LedgerEntryOut(Schema):
    id: int
    consult: int
    payment: int
    kind: str
    is_reversal: bool
    amount: int
    currency: str
    created_at: datetime

    @staticmethod
    def resolve_consult(obj: LedgerEntry) -> int:
        return obj.consult_id

    @staticmethod
    def resolve_payment(obj: LedgerEntry) -> int:
        return obj.payment_id


class EarningsOut(Schema):
    totals: list[EarningTotalOut]
    pending: list[PendingOut]
    entries: list[LedgerEntryOut]
    platform_fee_basis_points: int


class Page(Schema):
    limit: int = Field(50, ge=1, le=200)
    offset: int = Field(0, ge=0)


class LawyerStatsOut(Schema):
    window_days: int
    answered_consults: int
    response_p50_seconds: int | None
    response_p90_seconds: int | None
    acceptance_rate: float | None
    rating_avg: str | None
    rating_count: int
    satisfaction_rate: float | None


class RatingIn(Schema):
    score: StrictInt = Field(description="1 to 5")
    comment: str = Field("", max_length=1000)


class RatingOut(Schema):
    consult: int
    score: int
    comment: str
    created_at: datetime

    @staticmethod
    def resolve_consult(obj: Rating) -> int:
        return obj.consult_id


class RecentOut(Schema):
    city: str = Field(
        description="the question's city, only when the question is public; else empty"
    )
    asker: str = Field(
        description='who asked, anonymously, in the request\'s language: "济南的用户" / "A user in '
        'Jinan", or "用户" / "A user"'
    )
    masked_phone: str = Field(description="always empty: the ticker shows no part of a phone")
    seconds_ago: int


class PublicStatsOut(Schema):
    lawyers_online: int
    avg_first_response_seconds: int | None
    satisfaction_rate: float | None = Field(description="share of ratings of 4 or 5, 0–1")
    ratings_count: int
    answered_consults: int
    window_days: int
    recent: list[RecentOut]


# --- payments ---------------------------------------------------------------------------------------
@router.get("/payments/{payment_id}", response=PaymentOut, auth=signed_in, tags=["payments"])
def payment_detail(request: HttpRequest, payment_id: int):
    return selectors.payment_visible_to(payment_id=payment_id, user=_user(request))


@router.post(
    "/payments/{payment_id}/checkout", response=CheckoutOut, auth=signed_in, tags=["payments"]
)
def payment_checkout(request: HttpRequest, payment_id: int):
    """What the asker's card step needs. Stripe: the publishable key and the PaymentIntent's
    client secret (the intent is opened here, once). Sandbox: use sandbox-authorize."""
    payment = services.payment_checkout(payment_id=payment_id, user=_user(request))
    out: dict[str, Any] = {"payment": payment, "gateway": payment.gateway}
    if (
        payment.gateway == Payment.Gateway.STRIPE
        and payment.state == Payment.State.REQUIRES_PAYMENT
    ):
        out["publishable_key"] = settings.STRIPE_PUBLISHABLE_KEY
        out["client_secret"] = payment.client_secret
    return out


@router.post(
    "/payments/{payment_id}/sandbox-authorize",
    response=PaymentOut,
    auth=signed_in,
    tags=["payments"],
)
def payment_sandbox_authorize(request: HttpRequest, payment_id: int):
    """Sandbox gateway only: stands in for the card step. 409 `sandbox_disabled` when Stripe is
    configured."""
    return services.payment_sandbox_authorize(payment_id=payment_id, user=_user(request))


@router.post("/payments/{payment_id}/sync", response=PaymentOut, auth=signed_in, tags=["payments"])
def payment_sync(request: HttpRequest, payment_id: int):
    """After Stripe's card step: the server asks Stripe where the payment stands."""
    return services.payment_sync(payment_id=payment_id, user=_user(request))


@router.post(
    "/admin/payments/{payment_id}/refund", response=PaymentOut, auth=signed_in, tags=["staff"]
)
def payment_refund(request: HttpRequest, payment_id: int, body: RefundIn):
    """Staff only (404 otherwise): refund a captured payment in full."""
    require_staff(_user(request))
    return services.payment_refund(payment_id=payment_id, staff=_user(request), reason=body.reason)


# --- lawyers' money and figures ---------------------------------------------------------------------
@router.get("/lawyer/earnings", response=EarningsOut, auth=signed_in, tags=["lawyers"])
def lawyer_earnings(request: HttpRequest, page: Query[Page]):
    require_role(_user(request), "lawyer")
    entries = selectors.lawyer_ledger_entries(lawyer=_user(request))
    return {
        "totals": selectors.lawyer_earning_totals(lawyer=_user(request)),
        "pending": selectors.lawyer_pending_earnings(lawyer=_user(request)),
        "entries": list(entries[page.offset : page.offset + page.limit]),
        "platform_fee_basis_points": settings.PLATFORM_FEE_BASIS_POINTS,
    }


@router.get("/lawyer/stats", response=LawyerStatsOut, auth=signed_in, tags=["lawyers"])
def lawyer_stats(request: HttpRequest):
    """The lawyer's own response times (from their own offers), acceptance and ratings."""
    require_role(_user(request), "lawyer")
    figures = lawyer_figures(lawyer_id=_user(request).pk)
    return {
        "window_days": figures.window_days,
        "answered_consults": figures.response.count,
        "response_p50_seconds": figures.response.p50_seconds,
        "response_p90_seconds": figures.response.p90_seconds,
        "acceptance_rate": figures.acceptance_rate,
        "rating_avg": str(figures.ratings.average) if figures.ratings.average else None,
        "rating_count": figures.ratings.count,
        "satisfaction_rate": figures.ratings.positive_rate,
    }


# --- ratings ---------------------------------------------------------------------------------------
@router.post(
    "/consults/{consult_id}/rating",
    response={201: RatingOut},
    auth=signed_in,
    tags=["consults"],
)
def consult_rate(request: HttpRequest, consult_id: int, body: RatingIn):
    """The asker rates a closed consult 1–5, once (409 `already_rated`)."""
    rating = services.rating_create(
        consult_id=consult_id, user=_user(request), score=body.score, comment=body.comment
    )
    return 201, rating


# --- figures --------------------------------------------------------------------------------------
@router.get("/stats/public", response=PublicStatsOut, auth=None, tags=["stats"])
def stats_public(request: HttpRequest):
    return selectors.public_stats()


@router.get("/admin/dashboard", auth=signed_in, tags=["staff"])
def admin_dashboard(request: HttpRequest) -> dict[str, Any]:
    """Staff only (404 otherwise): online lawyers by region, waiting consults, response
    percentiles, SLA breaches, revenue and the consult funnel."""
    require_staff(_user(request))
    return selectors.admin_dashboard()
