"""The staff live dashboard. Anyone else, signed in or not, gets 404 as if it did not exist."""

from __future__ import annotations

from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from accounts.models import User


def is_staff_user(user: User) -> bool:
    return bool(user.is_authenticated and (user.is_staff or user.role == User.Role.STAFF))


@require_GET
def live(request: HttpRequest) -> HttpResponse:
    if not is_staff_user(request.user):  # type: ignore[arg-type]
        raise Http404
    return render(request, "dashboard/live.html", {})
