"""The staff live dashboard. Anyone else, signed in or not, gets 404 as if it did not exist.

The figures are billing's `admin_dashboard()` (the same payload as GET /api/v1/admin/dashboard,
which the page then polls); the verification queue is marketplace's."""

from __future__ import annotations

from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from accounts.models import User
from dashboard import selectors

# how often the page asks for fresh figures (presence changes within a heartbeat)
REFRESH_SECONDS = 5


def is_staff_user(user: User) -> bool:
    return bool(user.is_authenticated and user.is_staff_member)


@require_GET
def live(request: HttpRequest) -> HttpResponse:
    if not is_staff_user(request.user):  # type: ignore[arg-type]
        raise Http404
    verifications, verifications_waiting = selectors.pending_verifications()
    return render(
        request,
        "dashboard/live.html",
        {
            "figures": selectors.dashboard_figures(),
            "verifications": verifications,
            "verifications_waiting": verifications_waiting,
            "moderation": selectors.moderation_links(),
            "refresh_seconds": REFRESH_SECONDS,
            "labels": selectors.labels(),
        },
    )
