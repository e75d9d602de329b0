"""Asker and lawyer pages. Thin: one selector call, one render. The pages then live on the
socket (static/js/socket.js) and the JSON API."""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.http import require_GET

from accounts.models import User
from marketplace.models import Consult
from marketplace.selectors import category_list
from pages import selectors

CLOSED_STATES = {
    Consult.State.RESOLVED,
    Consult.State.EXPIRED,
    Consult.State.CANCELED,
    Consult.State.REFUNDED,
}


@require_GET
def home(request: HttpRequest) -> HttpResponse:
    from billing.selectors import public_stats

    return render(
        request,
        "pages/home.html",
        {"categories": category_list(), "stats": public_stats()},
    )


@require_GET
@login_required
def my_consults(request: HttpRequest) -> HttpResponse:
    user: User = request.user  # type: ignore[assignment]
    consults = list(selectors.consults_of_asker(user=user))
    return render(
        request,
        "pages/my_consults.html",
        {
            "open_consults": [
                c
                for c in consults
                if c.state in selectors.OPEN_STATES or c.state == Consult.State.PENDING_PAYMENT
            ],
            "past_consults": [
                c
                for c in consults
                if c.state not in selectors.OPEN_STATES and c.state != Consult.State.PENDING_PAYMENT
            ],
        },
    )


@require_GET
@login_required
def consult_room(request: HttpRequest, consult_id: int) -> HttpResponse:
    user: User = request.user  # type: ignore[assignment]
    room = selectors.consult_room(user=user, consult_id=consult_id)
    return render(
        request,
        "pages/consult.html",
        {
            "room": room,
            "consult": room.consult,
            "chat": room.chat,
            "is_waiting": room.consult.state in selectors.WAITING_STATES,
            "is_closed": room.consult.state in CLOSED_STATES,
            "scopes": Consult.Scope.choices,
            "state_labels": {value: str(label) for value, label in Consult.State.choices},
            "offered_count": room.extras.get("offered_count", 0),
            "pay_url": room.extras.get("pay_url"),
            "rating": room.extras.get("rating"),
            "payment": room.extras.get("payment"),
        },
    )


@require_GET
@login_required
def workbench(request: HttpRequest) -> HttpResponse:
    user: User = request.user  # type: ignore[assignment]
    if not user.is_lawyer:
        raise Http404
    consults = list(selectors.lawyer_open_consults(lawyer=user))
    chats = selectors.build_chats(
        conversations=[(c.conversation_id, c.asker_id) for c in consults if c.conversation_id],
        viewer=user,
    )
    rooms = [
        {"consult": c, "chat": chats[c.conversation_id]} for c in consults if c.conversation_id
    ]
    return render(
        request,
        "pages/workbench.html",
        {
            "profile": selectors.lawyer_profile(lawyer=user),
            "offers": list(selectors.lawyer_live_offers(lawyer=user)),
            "rooms": rooms,
            **selectors.lawyer_money_and_figures(lawyer=user),
            "server_now": timezone.now(),
            "heartbeat_seconds": settings.PRESENCE_HEARTBEAT_SECONDS,
        },
    )
