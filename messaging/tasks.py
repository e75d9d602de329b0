"""Messaging's tasks: thin wrappers over services, ids (and amounts) only as arguments."""

from __future__ import annotations

import logging
from typing import Any

from celery import shared_task
from django.db import DatabaseError

from config.errors import DomainError

logger = logging.getLogger(__name__)


@shared_task(
    name="messaging.notice_send",
    bind=True,
    acks_late=True,
    max_retries=5,
    time_limit=30,
    soft_time_limit=20,
)
def notice_send_task(
    self, user_id: int, kind: str, context: dict[str, Any] | None = None, **_kwargs: object
) -> int | None:
    """Send a platform notice (see messaging.notices for kinds and their context: ids and
    amounts only). Idempotent: a redelivered task finds the notice already sent. Call it as
    `notice_send_task.delay_on_commit(user.pk, "welcome")` from a transaction."""
    from accounts.models import User
    from messaging.services import notice_send

    user = User.objects.filter(pk=user_id).first()
    if user is None:
        logger.warning("notice %s not sent: user %s does not exist", kind, user_id)
        return None
    try:
        return notice_send(user=user, kind=kind, context=context or {}).pk
    except DomainError as exc:
        logger.error("notice %s for user %s refused: %s", kind, user_id, exc.code)
        return None
    except DatabaseError as exc:
        raise self.retry(exc=exc, countdown=min(2**self.request.retries, 30)) from exc
