"""Fixed-window rate limits in Redis: one pipelined round trip per check.

A limit fails open: with Redis unreachable the request goes through (and a warning is logged),
because refusing every ask, report or registration during an outage is worse than letting a
few extra through; what the request writes lives in PostgreSQL either way."""

from __future__ import annotations

import logging

from redis.exceptions import RedisError

from config.errors import RateLimited
from config.redis_connections import get_redis, key

logger = logging.getLogger(__name__)


def _window_key(bucket: str, identity: object) -> str:
    return key("rate", bucket, identity)


def rate_limit_check(*, bucket: str, identity: object, limit: int, window_seconds: int) -> None:
    """Count one hit; raise RateLimited when more than `limit` fall in the window."""
    redis_key = _window_key(bucket, identity)
    try:
        pipe = get_redis().pipeline(transaction=False)
        # SET NX EX starts the window (works on Redis 6.2, unlike EXPIRE NX)
        pipe.set(redis_key, 0, ex=window_seconds, nx=True)
        pipe.incr(redis_key)
        _, hits = pipe.execute()
    except RedisError as exc:
        logger.warning("rate limit %s not checked: %s", bucket, type(exc).__name__)
        return
    if hits > limit:
        raise RateLimited()
