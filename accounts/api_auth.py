"""API authentication: a bearer token (API clients) or the session with CSRF (pages)."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from ninja.security import HttpBearer, django_auth

from accounts.services import token_authenticate


class BearerToken(HttpBearer):
    def authenticate(self, request: HttpRequest, token: str) -> Any:
        user = token_authenticate(token)
        if user is not None:
            request.user = user
        return user


bearer_token = BearerToken()
# a bearer token never needs CSRF; the session (django_auth) does for unsafe methods
signed_in = [bearer_token, django_auth]
