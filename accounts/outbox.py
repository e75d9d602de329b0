"""Account mails through a transactional outbox (accounts.models.AccountMail).

`account_mail_queue` is the one way to ask for an account mail: it writes a row in the
caller's transaction, next to the change the mail is about, and queues the task
`accounts.account_mail_send` with the row's id after commit. Should the broker be unreachable
then, the task is lost (config/celery_tasks.py) but the row is not: beat's sweep
(`account_mails_sweep`) sends it once it has waited ACCOUNT_MAIL_RETRY_AFTER_SECONDS. Whoever
comes first, `account_mail_deliver` sends a row at most once, under its lock and only while it
is pending. Links are made when the mail is sent (accounts.account_mail, accounts.reset_mail);
logs carry the row id, the kind of mail and the user id, never an address.
"""

from __future__ import annotations

import logging
import smtplib
import time
from collections.abc import Callable
from datetime import datetime, timedelta

from django.conf import settings
from django.db import DatabaseError, transaction
from django.db.models import Q
from django.utils import timezone

from accounts.models import AccountMail, User

logger = logging.getLogger(__name__)

Kind = AccountMail.Kind
State = AccountMail.State

# a sweep starts no send after this long, so that it ends within its task's time limit (one
# send more is bounded by EMAIL_TIMEOUT); what it did not reach waits for the next sweep
SWEEP_BUDGET_SECONDS = 30
SWEEP_BATCH = 200
# sent and dropped rows are deleted this long after
KEEP_DONE_DAYS = 7


class MailNotSent(Exception):
    """A send that failed and may work later. It carries the error's type name only: the mail
    server's text may hold the recipient's address, and Celery logs the exception of every retry
    and failure."""


def account_mail_queue(
    *, user: User, kind: str, language: str, address: str = "", tokens_revoked: int = 0
) -> AccountMail:
    """Ask for an account mail to `user`, in `language`. Call it inside the transaction of the
    change the mail is about: the request commits with the change, or not at all. `address` only
    for a mail to an address the account no longer has (Kind.EMAIL_CHANGED, EMAIL_REMOVED);
    every other mail goes to the address on the account when it is sent. `tokens_revoked`: what
    a Kind.PASSWORD_CHANGED mail says of the API tokens the change revoked. Whatever the mail
    needs waits in the row: the task gets the row's id only."""
    from accounts.tasks import account_mail_send_task

    mail = AccountMail.objects.create(
        user=user, kind=kind, language=language, address=address, tokens_revoked=tokens_revoked
    )
    account_mail_send_task.delay_on_commit(mail.pk)
    return mail


def _senders() -> dict[str, Callable[..., None]]:
    """How each kind of mail is rendered and sent: `send(mail=, to=)`, the outbox row and the
    address it goes to now. Looked up at each send, so a test can replace one."""
    from accounts import account_mail, reset_mail

    return {
        Kind.PASSWORD_RESET: reset_mail.password_reset_mail_send,
        Kind.EMAIL_CONFIRM: account_mail.email_confirm_mail_send,
        Kind.PASSWORD_CHANGED: account_mail.password_changed_mail_send,
        Kind.EMAIL_CHANGED: account_mail.email_changed_mail_send,
        Kind.EMAIL_REMOVED: account_mail.email_removed_mail_send,
    }


def _recipient(mail: AccountMail) -> str:
    """Where a mail goes now; "" when nowhere any more: the account closed, its address removed,
    or (for a confirmation link) the pending address confirmed or withdrawn since."""
    user = mail.user
    if not user.is_active:
        return ""
    if mail.kind in (Kind.EMAIL_CHANGED, Kind.EMAIL_REMOVED):
        return mail.address
    if mail.kind == Kind.EMAIL_CONFIRM:
        return user.email_pending
    return user.email


def _close(mail: AccountMail, state: str, now: datetime) -> None:
    mail.state, mail.done_at, mail.address = state, now, ""
    mail.save(update_fields=["state", "done_at", "address", "attempts", "attempted_at"])


def account_mail_deliver(*, mail_id: int) -> bool:
    """Send one pending mail; True when it was sent now. Does nothing when the mail was sent or
    dropped already, or when another worker holds it (sending it; if that fails, its retry or
    the sweep tries again): a duplicated or redelivered task sends no second mail. The row's
    lock is held while the mail server is talked to (EMAIL_TIMEOUT bounds that). A worker
    killed after the server took the mail and before the commit leaves the row pending, and the
    mail goes twice. Raises MailNotSent when the mail server failed (the attempt is counted)."""
    now = timezone.now()
    failure = ""
    with transaction.atomic():
        mail = (
            AccountMail.objects.select_for_update(skip_locked=True, of=("self",))
            .select_related("user")
            .filter(pk=mail_id, state=State.PENDING)
            .first()
        )
        if mail is None:
            return False
        mail.attempts += 1
        mail.attempted_at = now
        to = _recipient(mail)
        if not to:
            _close(mail, State.DROPPED, now)
            logger.info(
                "%s mail %s for user %s not sent: no active account with an address",
                mail.kind,
                mail.pk,
                mail.user_id,
            )
            return False
        try:
            # a savepoint: a database error while rendering leaves the row writable
            with transaction.atomic():
                _senders()[mail.kind](mail=mail, to=to)
        except smtplib.SMTPRecipientsRefused:  # the address itself: asking again won't help
            _close(mail, State.DROPPED, now)
            logger.warning(
                "%s mail %s for user %s refused by the mail server: not retried",
                mail.kind,
                mail.pk,
                mail.user_id,
            )
            return False
        except (OSError, DatabaseError) as exc:  # smtplib's other errors are OSErrors too
            failure = type(exc).__name__
            mail.save(update_fields=["attempts", "attempted_at"])
        else:
            _close(mail, State.SENT, now)
    if failure:
        # raised outside the except block, so the original error (and its text) is not chained
        logger.warning(
            "%s mail %s for user %s not sent yet: %s", mail.kind, mail.pk, mail.user_id, failure
        )
        raise MailNotSent(failure)
    logger.info("%s mail %s sent to user %s", mail.kind, mail.pk, mail.user_id)
    return True


def account_mails_sweep(*, now: datetime | None = None) -> int:
    """Beat's pass over the outbox; returns how many mails it sent. It sends what still waits
    ACCOUNT_MAIL_RETRY_AFTER_SECONDS after it was asked for and after its last try (its task was
    lost with the broker, or ran out of retries), oldest first, for at most
    SWEEP_BUDGET_SECONDS; drops, with a log line, what has been tried ACCOUNT_MAIL_MAX_ATTEMPTS
    times or waited ACCOUNT_MAIL_GIVE_UP_SECONDS; and deletes what was done KEEP_DONE_DAYS ago."""
    now = now or timezone.now()
    _give_up_stale(now)
    due = now - timedelta(seconds=settings.ACCOUNT_MAIL_RETRY_AFTER_SECONDS)
    waiting = (
        AccountMail.objects.filter(state=State.PENDING, created_at__lte=due)
        .filter(Q(attempted_at__isnull=True) | Q(attempted_at__lte=due))
        .order_by("created_at")
        .values_list("pk", flat=True)[:SWEEP_BATCH]
    )
    sent = 0
    deadline = time.monotonic() + SWEEP_BUDGET_SECONDS
    for mail_id in list(waiting):
        if time.monotonic() > deadline:
            break
        try:
            sent += account_mail_deliver(mail_id=mail_id)
        except MailNotSent:
            continue  # counted against its attempts; the next sweep tries again
    _prune(now)
    return sent


def _give_up_stale(now: datetime) -> None:
    too_old = now - timedelta(seconds=settings.ACCOUNT_MAIL_GIVE_UP_SECONDS)
    stale = AccountMail.objects.filter(state=State.PENDING).filter(
        Q(created_at__lt=too_old) | Q(attempts__gte=settings.ACCOUNT_MAIL_MAX_ATTEMPTS)
    )
    with transaction.atomic():
        rows = list(
            stale.select_for_update(skip_locked=True).values_list(
                "pk", "kind", "user_id", "attempts"
            )
        )
        AccountMail.objects.filter(pk__in=[row[0] for row in rows]).update(
            state=State.DROPPED, done_at=now, address=""
        )
    for pk, kind, user_id, attempts in rows:
        logger.warning(
            "%s mail %s for user %s given up after %s attempts", kind, pk, user_id, attempts
        )


def _prune(now: datetime) -> None:
    done = AccountMail.objects.exclude(state=State.PENDING).filter(
        done_at__lt=now - timedelta(days=KEEP_DONE_DAYS)
    )
    AccountMail.objects.filter(pk__in=list(done.values_list("pk", flat=True)[:1000])).delete()
