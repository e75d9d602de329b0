"""Fixed-window rate limits in Redis: one pipelined round trip per check."""

from __future__ import annotations

from config.errors import RateLimited
from config.redis_connections import get_async_redis, get_redis, key


def _window_key(bucket: str, identity: object) -> str:
    return key("rate", bucket, identity)


def rate_limit_check(*, bucket: str, identity: object, limit: int, window_seconds: int) -> None:
    """Count one hit; raise RateLimited when more than `limit` fall in the window."""
    redis_key = _window_key(bucket, identity)
    pipe = get_redis().pipeline(transaction=False)
    # SET NX EX starts the window (works on Redis 6.2, unlike EXPIRE NX)
    pipe.set(redis_key, 0, ex=window_seconds, nx=True)
    pipe.incr(redis_key)
    _, hits = pipe.execute()
    if hits > limit:
        raise RateLimited()


async def arate_limit_check(
    *, bucket: str, identity: object, limit: int, window_seconds: int
) -> None:
    redis_key = _window_key(bucket, identity)
    pipe = get_async_redis().pipeline(transaction=False)
    pipe.set(redis_key, 0, ex=window_seconds, nx=True)
    pipe.incr(redis_key)
    _, hits = await pipe.execute()
    if hits > limit:
        raise RateLimited()
