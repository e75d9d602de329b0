"""How fast one user may send messages, over all their sockets on every web process: a sliding
window in Redis (one round trip, atomic in a script)."""

from __future__ import annotations

import logging
import secrets
import time

import redis
from django.conf import settings

from config.redis_connections import get_async_redis, key
from messaging.errors import MessageRateLimited
from messaging.lua import run_script

logger = logging.getLogger(__name__)

# KEYS: one user's window per message (a user twice in a batch: twice, counted in order); ARGV:
# now (ms), window (ms), limit, then a unique member per message. Returns 1 (allowed) or 0 per
# message. Refused attempts are not recorded, so a client that waits gets through.
SLIDING_WINDOW = """
local now = tonumber(ARGV[1])
local window = tonumber(ARGV[2])
local limit = tonumber(ARGV[3])
local allowed = {}
for i, key in ipairs(KEYS) do
  redis.call('ZREMRANGEBYSCORE', key, '-inf', now - window)
  if redis.call('ZCARD', key) >= limit then
    allowed[i] = 0
  else
    redis.call('ZADD', key, now, ARGV[3 + i])
    redis.call('PEXPIRE', key, window)
    allowed[i] = 1
  end
end
return allowed
"""


async def message_rate_check(user_id: int) -> None:
    """Raise MessageRateLimited when the user sent their quota inside the window. When Redis
    is unreachable the message goes through: storing it matters more than throttling it."""
    (allowed,) = await message_rate_check_many([user_id])
    if not allowed:
        raise MessageRateLimited()


async def message_rate_check_many(user_ids: list[int]) -> list[bool]:
    """Count one message for each user id (in order) in one round trip; whether each may go.
    When Redis is unreachable every message goes."""
    if not user_ids:
        return []
    now_ms = int(time.time() * 1000)
    window_ms = settings.MESSAGING_RATE_LIMIT_WINDOW_SECONDS * 1000
    salt = secrets.token_hex(4)
    try:
        allowed = await run_script(
            get_async_redis(),
            SLIDING_WINDOW,
            [key("msg-rate", user_id) for user_id in user_ids],
            [
                now_ms,
                window_ms,
                settings.MESSAGING_RATE_LIMIT_COUNT,
                *(f"{now_ms}-{salt}-{n}" for n in range(len(user_ids))),
            ],
        )
    except (redis.RedisError, OSError) as exc:
        logger.warning("message rate check skipped: %s", type(exc).__name__)
        return [True] * len(user_ids)
    return [bool(flag) for flag in allowed]
