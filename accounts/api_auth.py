"""API authentication: a bearer token (API clients) or the session with CSRF (pages)."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from ninja.security import HttpBearer, django_auth

from accounts.services import token_authenticate_with_id

# the request attribute that holds the id of the token a request was signed in with
TOKEN_ID_ATTRIBUTE = "api_token_id"  # noqa: S105 - an attribute name


class BearerToken(HttpBearer):
    def authenticate(self, request: HttpRequest, token: str) -> Any:
        signed_in = token_authenticate_with_id(token)
        if signed_in is None:
            return None
        user, token_id = signed_in
        request.user = user
        setattr(request, TOKEN_ID_ATTRIBUTE, token_id)
        return user


def request_token_id(request: HttpRequest) -> int | None:
    """The id of the API token the request was signed in with; None for a session."""
    return getattr(request, TOKEN_ID_ATTRIBUTE, None)


bearer_token = BearerToken()
# a bearer token never needs CSRF; the session (django_auth) does for unsafe methods
signed_in = [bearer_token, django_auth]
