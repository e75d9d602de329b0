"""Who is on the other end of a WebSocket: a session cookie (browsers) or
`Authorization: Bearer <token>` on the handshake (API clients)."""

from __future__ import annotations

from channels.auth import AuthMiddlewareStack
from channels.db import DatabaseSyncToAsync
from channels.middleware import BaseMiddleware
from django.contrib.auth.models import AnonymousUser

from accounts.services import token_authenticate


def bearer_from_headers(headers: list[tuple[bytes, bytes]]) -> str | None:
    for name, value in headers:
        if name.lower() == b"authorization":
            scheme, _, token = value.decode("latin-1").partition(" ")
            if scheme.lower() == "bearer" and token.strip():
                return token.strip()
    return None


# off the thread-sensitive thread: the lookup needs no thread affinity, and holds no connection
_token_authenticate = DatabaseSyncToAsync(token_authenticate, thread_sensitive=False)


class BearerTokenMiddleware(BaseMiddleware):
    """A socket that brings `Authorization: Bearer` is signed in by its token and goes straight
    to the consumer: it has no cookie session, so the cookie, session and auth middlewares
    (three more copies of the scope, a lazy session, and a session wrapper around every send)
    are skipped. Any other socket goes through `fallback`, the session stack."""

    def __init__(self, inner, fallback):
        super().__init__(inner)
        self.fallback = fallback

    async def __call__(self, scope, receive, send):
        token = bearer_from_headers(scope.get("headers", []))
        if token is None:
            return await self.fallback(scope, receive, send)
        user = await _token_authenticate(token)
        return await self.inner({**scope, "user": user or AnonymousUser()}, receive, send)


def SocketAuthMiddleware(inner):  # noqa: N802 - reads like the Channels stacks it wraps
    return BearerTokenMiddleware(inner, fallback=AuthMiddlewareStack(inner))
