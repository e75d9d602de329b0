"""Asker and lawyer pages. Thin: one selector call, one render. The pages then live on the
socket (static/js/socket.js) and the JSON API."""

from __future__ import annotations

from datetime import UTC, datetime

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import redirect, render
from django.templatetags.static import static
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import check_for_language
from django.utils.translation import gettext_lazy as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods

from accounts.models import User
from billing.models import Payment
from config.health import recent_health_checks
from marketplace.models import Consult
from marketplace.selectors import category_list
from messaging import selectors as messaging_selectors
from messaging.services import conversation_mark_read
from pages import selectors

CLOSED_STATES = {
    Consult.State.RESOLVED,
    Consult.State.EXPIRED,
    Consult.State.CANCELED,
    Consult.State.REFUNDED,
}


@require_http_methods(["GET", "POST"])
def language_choose(request: HttpRequest) -> HttpResponse:
    """Remember the visitor's language in a cookie and go back to where they were.

    The page header's switcher submits by GET, so pages for anonymous visitors carry no CSRF
    token and one rendering serves them all (config/page_cache.py). Choosing a language
    changes nothing but a display preference; POST stays accepted for old forms."""
    data = request.POST if request.method == "POST" else request.GET
    target = data.get("next") or "/"
    if not url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        target = "/"
    response = HttpResponseRedirect(target)
    language = data.get("language", "")
    if check_for_language(language) and language in dict(settings.LANGUAGES):
        response.set_cookie(
            settings.LANGUAGE_COOKIE_NAME,
            language,
            max_age=settings.LANGUAGE_COOKIE_AGE,
            path=settings.LANGUAGE_COOKIE_PATH,
            domain=settings.LANGUAGE_COOKIE_DOMAIN,
            secure=settings.LANGUAGE_COOKIE_SECURE,
            httponly=settings.LANGUAGE_COOKIE_HTTPONLY,
            samesite=settings.LANGUAGE_COOKIE_SAMESITE,
        )
    return response


@require_GET
def home(request: HttpRequest) -> HttpResponse:
    from billing.selectors import public_stats

    return render(
        request,
        "pages/home.html",
        {"categories": category_list(), "stats": public_stats()},
    )


# The signed-in pages below show live state: `never_cache`, or Back shows the browser's copy
# of an earlier visit (a workbench without the chat just accepted, offers long gone).
@require_GET
@never_cache
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
@never_cache
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
            "state_labels": {value: room.consult.state_label(value) for value in Consult.State},
            "payment_labels": {value: str(label) for value, label in Payment.State.choices},
            "offered_count": room.extras.get("offered_count", 0),
            "pay_url": room.extras.get("pay_url"),
            "rating": room.extras.get("rating"),
            "payment": room.extras.get("payment"),
        },
    )


@require_GET
@never_cache
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
    profile = selectors.lawyer_profile(lawyer=user)
    return render(
        request,
        "pages/workbench.html",
        {
            "profile": profile,
            "rejection_reason": selectors.lawyer_rejection_reason(profile=profile),
            "offers": list(selectors.lawyer_live_offers(lawyer=user)),
            "rooms": rooms,
            **selectors.lawyer_money_and_figures(lawyer=user),
            "server_now": timezone.now(),
            "heartbeat_seconds": settings.PRESENCE_HEARTBEAT_SECONDS,
        },
    )


@require_GET
@never_cache
@login_required
def notices(request: HttpRequest) -> HttpResponse:
    """The user's platform notices, newest first. Viewing them reads them: the read cursor
    moves as a `read` frame would move it, so the nav's count and the API agree."""
    user: User = request.user  # type: ignore[assignment]
    inbox = messaging_selectors.notice_inbox(user=user)
    if inbox.conversation_id is not None and inbox.newest_seq > inbox.last_read_seq:
        conversation_mark_read(
            user=user, conversation_id=inbox.conversation_id, seq=inbox.newest_seq
        )
    return render(
        request,
        "pages/notices.html",
        {"notices": inbox.notices, "read_before": inbox.last_read_seq},
    )


@require_GET
def favicon(request: HttpRequest) -> HttpResponse:
    """/favicon.ico, which browsers ask for on pages that name no icon (the Django admin's)."""
    return redirect(static("img/favicon.svg"), permanent=True)


# what each check means to a person using the site
STATUS_PARTS = (
    ("database", _("Website, accounts and consultations")),
    ("redis", _("Live chat, offers and notifications")),
    ("celery", _("Matching, payments and reminders in the background")),
)


@require_GET
@never_cache
def service_status(request: HttpRequest) -> HttpResponse:
    """/healthz for people: whether each part of the service works right now."""
    checked_at, checks = recent_health_checks()
    parts = [{"name": name, "ok": checks[key] == "ok"} for key, name in STATUS_PARTS]
    return render(
        request,
        "pages/status.html",
        {
            "parts": parts,
            "all_ok": all(part["ok"] for part in parts),
            "checked_at": datetime.fromtimestamp(checked_at, tz=UTC),
        },
    )
