"""What the account pages and the API read off a request: the client's address (for throttles)
and the language mails are written in."""

from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest
from django.utils import translation


def client_address(request: HttpRequest) -> str:
    return request.META.get("REMOTE_ADDR") or "unknown"


def request_language() -> str:
    """The request's language (Accept-Language or the language cookie), for mails."""
    return translation.get_language() or settings.LANGUAGE_CODE
