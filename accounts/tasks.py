"""Accounts' tasks: thin wrappers over the mails of accounts.reset_mail and account_mail, a user id and a
language code as arguments (never an address, never a token)."""

from __future__ import annotations

import logging
import smtplib
from collections.abc import Callable
from typing import TYPE_CHECKING

from celery import Task, shared_task
from django.db import DatabaseError
from redis.exceptions import RedisError

from config.redis_connections import get_redis, key

if TYPE_CHECKING:
    from accounts.models import User

logger = logging.getLogger(__name__)


class MailNotSent(Exception):
    """What a retry carries instead of the mail server's error, whose text may hold the
    recipient's address (Celery logs the exception of every retry and failure)."""


MAIL_TASK_OPTIONS: dict[str, object] = {
    "bind": True,
    "acks_late": True,
    "max_retries": 5,
    "time_limit": 60,
    "soft_time_limit": 45,
}


def _sent_key(kind: str, task_id: str) -> str:
    return key(f"{kind}-mail-sent", task_id)


def mail_once(
    task: Task, *, kind: str, user_id: int, recipient: str, send: Callable[[User], None]
) -> bool:
    """Send one mail to an active user by `send(user)`, once per task id. Retry-safe: a task
    redelivered (acks_late) or retried after its mail went out finds the mark of its own task
    id and sends nothing more; a mail server that fails is tried again with backoff. A worker
    killed between sending and marking sends the mail twice. `recipient` names the user field
    that holds the address: no address in that field (removed or confirmed since the request)
    sends nothing. Logs carry the user id and the kind of mail, never the address."""
    from accounts.models import User

    task_id = task.request.id or ""
    redis = get_redis()
    try:
        if task_id and redis.exists(_sent_key(kind, task_id)):
            return False
    except RedisError as exc:
        logger.warning(
            "%s mail for user %s: sent mark not read: %s", kind, user_id, type(exc).__name__
        )
    user = User.objects.filter(pk=user_id, is_active=True).exclude(**{recipient: ""}).first()
    if user is None:  # deleted, or the address removed, since the request
        logger.info(
            "%s mail for user %s not sent: no active account with an address", kind, user_id
        )
        return False
    failure = ""
    try:
        send(user)
    except smtplib.SMTPRecipientsRefused:  # the address itself is refused: asking again won't help
        logger.warning("%s mail for user %s refused by the mail server: not retried", kind, user_id)
        return False
    except (OSError, DatabaseError) as exc:  # smtplib's other errors are OSErrors too
        failure = type(exc).__name__
    if failure:
        # raised outside the except block, so the original error (and its text) is not chained
        logger.warning("%s mail for user %s not sent yet: %s", kind, user_id, failure)
        raise task.retry(exc=MailNotSent(failure), countdown=min(5 * 2**task.request.retries, 120))
    try:
        if task_id:
            redis.set(_sent_key(kind, task_id), 1, ex=24 * 3600)
    except RedisError as exc:
        logger.warning(
            "%s mail for user %s: sent mark not kept: %s", kind, user_id, type(exc).__name__
        )
    logger.info("%s mail sent to user %s", kind, user_id)
    return True


@shared_task(name="accounts.password_reset_mail_send", **MAIL_TASK_OPTIONS)
def password_reset_mail_task(self, user_id: int, language: str, **_kwargs: object) -> bool:
    """Mail a password reset link to the user's confirmed address, with a token made now (each
    link valid on its own). Call it as `password_reset_mail_task.delay_on_commit(user.pk,
    "zh-hans")`."""
    from accounts.reset_mail import password_reset_mail_send

    return mail_once(
        self,
        kind="reset",
        user_id=user_id,
        recipient="email",
        send=lambda user: password_reset_mail_send(user=user, language=language),
    )


@shared_task(name="accounts.email_confirm_mail_send", **MAIL_TASK_OPTIONS)
def email_confirm_mail_task(self, user_id: int, language: str, **_kwargs: object) -> bool:
    """Mail a confirmation link to the user's pending address, with a token made now for the
    claim as it is then (a claim replaced since gets the link of the newer one)."""
    from accounts.account_mail import email_confirm_mail_send

    return mail_once(
        self,
        kind="email-confirm",
        user_id=user_id,
        recipient="email_pending",
        send=lambda user: email_confirm_mail_send(user=user, language=language),
    )


@shared_task(name="accounts.password_changed_mail_send", **MAIL_TASK_OPTIONS)
def password_changed_mail_task(self, user_id: int, language: str, **_kwargs: object) -> bool:
    """Tell the user's confirmed address that the password changed, and when."""
    from accounts.account_mail import password_changed_mail_send

    return mail_once(
        self,
        kind="password-changed",
        user_id=user_id,
        recipient="email",
        send=lambda user: password_changed_mail_send(user=user, language=language),
    )
