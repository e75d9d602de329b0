"""Sign-in throttling: repeated failures for one username from one address lock it out for a
cool-off. Counters live in Redis; neither the password nor the typed username is logged.

With Redis unreachable the lockout fails open, like every rate limit (config/rate_limits.py):
sign-in keeps working during an outage, each attempt still pays the password hash, and a
warning is logged."""

from __future__ import annotations

import logging

from django.conf import settings
from django.utils.crypto import salted_hmac
from redis.exceptions import RedisError

from config.redis_connections import get_redis, key

logger = logging.getLogger(__name__)


def _username_digest(username: str) -> str:
    """What was typed as the username may be a phone number or a mistyped password: logs and
    Redis key names get a keyed digest that matches repeated attempts without saying it."""
    return salted_hmac("login-failure", username.lower()).hexdigest()[:12]


def _failure_key(username: str, address: str) -> str:
    return key("login-fail", _username_digest(username), address)


def login_is_locked(*, username: str, address: str) -> bool:
    try:
        count = get_redis().get(_failure_key(username, address))
    except RedisError as exc:
        logger.warning("sign-in lockout not checked: %s", type(exc).__name__)
        return False
    return count is not None and int(count) >= settings.LOGIN_FAILURE_LIMIT


def login_record_failure(*, username: str, address: str) -> None:
    redis_key = _failure_key(username, address)
    try:
        pipe = get_redis().pipeline()
        pipe.incr(redis_key)
        pipe.expire(redis_key, settings.LOGIN_LOCKOUT_SECONDS)
        count, _ = pipe.execute()
    except RedisError as exc:
        count = None
        logger.warning("sign-in failure not counted: %s", type(exc).__name__)
    logger.warning(
        "sign-in failed for username #%s from %s (%s in window)",
        _username_digest(username),
        address,
        count if count is not None else "?",
    )


def login_clear_failures(*, username: str, address: str) -> None:
    try:
        get_redis().delete(_failure_key(username, address))
    except RedisError as exc:
        logger.warning("sign-in failures not cleared: %s", type(exc).__name__)


def login_clear_failures_of_user(*, username: str) -> None:
    """Lift every lockout of this username, from whichever address (after a password reset)."""
    pattern = _failure_key(username, "*")
    try:
        client = get_redis()
        stale = list(client.scan_iter(match=pattern, count=500))
        if stale:
            client.delete(*stale)
    except RedisError as exc:
        logger.warning("sign-in failures not cleared: %s", type(exc).__name__)
