"""A socket that cannot join the channel layer (Redis down) is told to come back later instead
of getting an HTTP 500 on its handshake.

Channels subscribes a consumer's channel before the consumer's own code runs, so when Redis is
unreachable the handshake fails inside Channels; uvicorn answers that with a 500 and clients
treat it as a hard error. Here the socket is accepted and closed with 1013 (Try Again Later):
clients reconnect with backoff and `resume` brings back whatever they missed, since messages
live in the database.
"""

from __future__ import annotations

import logging
from typing import Any

import redis

logger = logging.getLogger(__name__)

CLOSE_TRY_AGAIN_LATER = 1013
OUTAGE_ERRORS = (redis.RedisError, OSError)


class RetryLaterOnOutage:
    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "websocket":
            await self.app(scope, receive, send)
            return
        accepted = False

        async def tracking_send(message: dict[str, Any]) -> None:
            nonlocal accepted
            if message["type"] in ("websocket.accept", "websocket.close"):
                accepted = True
            await send(message)

        try:
            await self.app(scope, receive, tracking_send)
        except OUTAGE_ERRORS as exc:
            if accepted:
                raise
            logger.warning(
                "socket refused for now, channel layer unreachable: %s", type(exc).__name__
            )
            await send({"type": "websocket.accept"})
            await send({"type": "websocket.close", "code": CLOSE_TRY_AGAIN_LATER})
