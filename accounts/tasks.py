"""Accounts' tasks: thin wrappers over the outbox of account mails (accounts.outbox). A task's
argument is an outbox row's id (never an address, never a token); the row holds the user, the
kind of mail and its language."""

from __future__ import annotations

import logging

from celery import Task, shared_task
from django.db import DatabaseError

from accounts.outbox import MailNotSent, account_mail_deliver, account_mails_sweep

logger = logging.getLogger(__name__)

MAIL_TASK_OPTIONS: dict[str, object] = {
    "bind": True,
    "acks_late": True,
    "max_retries": 5,
    "time_limit": 60,
    "soft_time_limit": 45,
}


def mail_once(task: Task, *, mail_id: int) -> bool:
    """Send the outbox row `mail_id` once (accounts.outbox.account_mail_deliver): a task
    redelivered (acks_late), duplicated or retried after its mail went out sends nothing more.
    A mail server or database that fails is tried again with backoff; past the retries, beat's
    sweep takes the row over. Logs carry the row and user ids and the kind of mail, never the
    address."""
    failure = ""
    try:
        return account_mail_deliver(mail_id=mail_id)
    except MailNotSent as exc:
        failure = str(exc)
    except DatabaseError as exc:  # its text may quote the values of a row
        failure = type(exc).__name__
        logger.warning("account mail %s not sent yet: %s", mail_id, failure)
    # raised outside the except blocks, so the original error (and its text) is not chained
    raise task.retry(exc=MailNotSent(failure), countdown=min(5 * 2**task.request.retries, 120))


@shared_task(name="accounts.account_mail_send", **MAIL_TASK_OPTIONS)
def account_mail_send_task(self, mail_id: int, **_kwargs: object) -> bool:
    """Send one account mail of the outbox: queued after commit by
    accounts.outbox.account_mail_queue, which is how a mail is asked for."""
    return mail_once(self, mail_id=mail_id)


@shared_task(name="accounts.account_mails_sweep", acks_late=True, time_limit=60, soft_time_limit=50)
def account_mails_sweep_task(**_kwargs: object) -> int:
    """Beat: send the account mails whose task was lost (an unreachable broker) or gave up."""
    return account_mails_sweep()
