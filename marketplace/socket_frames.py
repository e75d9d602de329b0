"""The frames the marketplace sends to sockets (DESIGN.md, "Public contract"). Built in one place
so a frame pushed live and the same frame re-sent on connect/`resume` are identical."""

from __future__ import annotations

from typing import Any

from marketplace.models import Consult, Offer

SEARCHING_STATES = frozenset({Consult.State.QUEUED, Consult.State.OFFERED})
OPEN_STATES = frozenset(
    {
        Consult.State.PENDING_PAYMENT,
        Consult.State.QUEUED,
        Consult.State.OFFERED,
        Consult.State.ACTIVE,
    }
)


def consult_payload(consult: Consult) -> dict[str, Any]:
    return {
        "id": consult.pk,
        "state": consult.state,
        "asker": consult.asker_id,
        "lawyer": consult.lawyer_id,
        "conversation": consult.conversation_id,
    }


def search_payload(consult: Consult, *, offered: int) -> dict[str, Any] | None:
    if consult.state not in SEARCHING_STATES:
        return None
    return {"scope": consult.search_scope, "offered": offered, "round": consult.search_round}


def consult_updated(
    consult: Consult, *, offered: int = 0, payment: dict[str, Any] | None = None
) -> dict[str, Any]:
    """`search` rides along while the consult is looking for a lawyer (`offered` = how many
    lawyers hold a live offer); `payment` when billing moved the consult's payment."""
    frame: dict[str, Any] = {"type": "consult.updated", "consult": consult_payload(consult)}
    if payment is not None:
        frame["consult"]["payment"] = payment
    search = search_payload(consult, offered=offered)
    if search is not None:
        frame["search"] = search
    return frame


def consult_matched(consult: Consult) -> dict[str, Any]:
    return {"type": "consult.matched", "consult": consult_payload(consult)}


def offer_summary(consult: Consult) -> dict[str, Any]:
    """Needs consult.question with its category and city loaded."""
    question = consult.question
    return {
        "title": question.title,
        "category": question.category.slug,
        "category_name": question.category.name,
        "city": question.city_id,
        "city_name": question.city.name,
        "price": consult.price,
        "currency": consult.currency,
        "paid": consult.is_paid,
    }


def offer_payload(offer: Offer) -> dict[str, Any]:
    """Needs offer.consult.question with its category and city loaded."""
    return {
        "id": offer.pk,
        "consult": offer.consult_id,
        "expires_at": offer.expires_at.isoformat(),
        "summary": offer_summary(offer.consult),
    }


def offer_new(offer: Offer) -> dict[str, Any]:
    return {"type": "offer.new", "offer": offer_payload(offer)}


def offer_revoked(*, offer_id: int, consult_id: int, reason: str) -> dict[str, Any]:
    """reason: taken (another lawyer won), expired, withdrawn (the consult stopped looking)."""
    return {
        "type": "offer.revoked",
        "offer": {"id": offer_id, "consult": consult_id},
        "reason": reason,
    }


def verification_changed(lawyer_id: int, verification: str, *, waiting: int) -> dict[str, Any]:
    """To staff: a lawyer joined (`pending`) or left the verification queue; `waiting`: how
    many wait now."""
    return {
        "type": "verification.changed",
        "lawyer": lawyer_id,
        "verification": verification,
        "waiting": waiting,
    }
