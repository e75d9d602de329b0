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

# KEYS[1] the user's window; ARGV now (ms), window (ms), limit, a unique member.
# Refused attempts are not recorded, so a client that waits gets through.
SLIDING_WINDOW = """
local now = tonumber(ARGV[1])
local window = tonumber(ARGV[2])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - window)
if redis.call('ZCARD', KEYS[1]) >= tonumber(ARGV[3]) then
  return 0
end
redis.call('ZADD', KEYS[1], now, ARGV[4])
redis.call('PEXPIRE', KEYS[1], window)
return 1
"""


async def message_rate_check(user_id: int) -> None:
    """Raise MessageRateLimited when the user sent their quota inside the window. When Redis
    is unreachable the message goes through: storing it matters more than throttling it."""
    now_ms = int(time.time() * 1000)
    window_ms = settings.MESSAGING_RATE_LIMIT_WINDOW_SECONDS * 1000
    try:
        allowed = await run_script(
            get_async_redis(),
            SLIDING_WINDOW,
            [key("msg-rate", user_id)],
            [
                now_ms,
                window_ms,
                settings.MESSAGING_RATE_LIMIT_COUNT,
                f"{now_ms}-{secrets.token_hex(4)}",
            ],
        )
    except (redis.RedisError, OSError) as exc:
        logger.warning("message rate check skipped: %s", type(exc).__name__)
        return
    if not allowed:
        raise MessageRateLimited()
