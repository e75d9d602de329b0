"""Sign-in throttling: repeated failures for one username from one address lock it out for a
cool-off. Counters live in Redis; neither the password nor the typed username is logged."""

from __future__ import annotations

import logging

from django.conf import settings
from django.utils.crypto import salted_hmac

from config.redis_connections import get_redis, key

logger = logging.getLogger(__name__)


def _username_digest(username: str) -> str:
    """What was typed as the username may be a phone number or a mistyped password: logs and
    Redis key names get a keyed digest that matches repeated attempts without saying it."""
    return salted_hmac("login-failure", username.lower()).hexdigest()[:12]


def _failure_key(username: str, address: str) -> str:
    return key("login-fail", _username_digest(username), address)


def login_is_locked(*, username: str, address: str) -> bool:
    count = get_redis().get(_failure_key(username, address))
    return count is not None and int(count) >= settings.LOGIN_FAILURE_LIMIT


def login_record_failure(*, username: str, address: str) -> None:
    redis_key = _failure_key(username, address)
    pipe = get_redis().pipeline()
    pipe.incr(redis_key)
    pipe.expire(redis_key, settings.LOGIN_LOCKOUT_SECONDS)
    count, _ = pipe.execute()
    logger.warning(
        "sign-in failed for username #%s from %s (%d in window)",
        _username_digest(username),
        address,
        count,
    )


def login_clear_failures(*, username: str, address: str) -> None:
    get_redis().delete(_failure_key(username, address))
