"""Accounts' tasks: thin wrappers over services, a user id and a language code as arguments
(never an address, never a token)."""

from __future__ import annotations

import logging
import smtplib

from celery import shared_task
from django.db import DatabaseError
from redis.exceptions import RedisError

from config.redis_connections import get_redis, key

logger = logging.getLogger(__name__)


class ResetMailNotSent(Exception):
    """What a retry carries instead of the mail server's error, whose text may hold the
    recipient's address (Celery logs the exception of every retry and failure)."""


def _sent_key(task_id: str) -> str:
    return key("reset-mail-sent", task_id)


@shared_task(
    name="accounts.password_reset_mail_send",
    bind=True,
    acks_late=True,
    max_retries=5,
    time_limit=60,
    soft_time_limit=45,
)
def password_reset_mail_task(self, user_id: int, language: str, **_kwargs: object) -> bool:
    """Mail a password reset link to the user, with a token made now. Retry-safe: a task
    redelivered (acks_late) or retried after its mail went out finds the mark of its own task
    id and sends nothing more; a mail server that fails is tried again with backoff. A worker
    killed between sending and marking sends the mail twice, each link valid on its own.
    Call it as `password_reset_mail_task.delay_on_commit(user.pk, "zh-hans")`."""
    from accounts.models import User
    from accounts.reset_mail import password_reset_mail_send

    task_id = self.request.id or ""
    redis = get_redis()
    try:
        if task_id and redis.exists(_sent_key(task_id)):
            return False
    except RedisError as exc:
        logger.warning(
            "reset mail for user %s: sent mark not read: %s", user_id, type(exc).__name__
        )
    user = User.objects.filter(pk=user_id, is_active=True).exclude(email="").first()
    if user is None:  # deleted, or the address removed, since the request
        logger.info("reset mail for user %s not sent: no active account with an address", user_id)
        return False
    failure = ""
    try:
        password_reset_mail_send(user=user, language=language)
    except smtplib.SMTPRecipientsRefused:  # the address itself is refused: asking again won't help
        logger.warning("reset mail for user %s refused by the mail server: not retried", user_id)
        return False
    except (OSError, DatabaseError) as exc:  # smtplib's other errors are OSErrors too
        failure = type(exc).__name__
    if failure:
        # raised outside the except block, so the original error (and its text) is not chained
        logger.warning("reset mail for user %s not sent yet: %s", user_id, failure)
        raise self.retry(
            exc=ResetMailNotSent(failure), countdown=min(5 * 2**self.request.retries, 120)
        )
    try:
        if task_id:
            redis.set(_sent_key(task_id), 1, ex=24 * 3600)
    except RedisError as exc:
        logger.warning(
            "reset mail for user %s: sent mark not kept: %s", user_id, type(exc).__name__
        )
    logger.info("reset mail sent to user %s", user_id)
    return True
