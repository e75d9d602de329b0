"""What the account tests read of mails: the mails asked for (rows of the outbox), the tasks
queued, and the mails a worker sent."""

from __future__ import annotations

import time

from celery.result import EagerResult
from django.core import mail

from accounts.models import AccountMail, User
from accounts.tasks import account_mail_send_task


def tasks_asked(monkeypatch, task) -> list[tuple[tuple, dict]]:
    """Each `task.delay_on_commit` asked for from now on (its args and kwargs), none run."""
    calls: list[tuple[tuple, dict]] = []
    monkeypatch.setattr(task, "delay_on_commit", lambda *a, **kw: calls.append((a, kw)))
    return calls


def mails_asked(kind: str) -> list[tuple[int, str]]:
    """The account mails of this kind asked for so far, oldest first: the user id and the
    language of each outbox row."""
    rows = AccountMail.objects.filter(kind=kind).order_by("pk")
    return list(rows.values_list("user_id", "language"))


def mail_row(user: User, kind: str, language: str = "zh-hans", address: str = "") -> AccountMail:
    """An outbox row as accounts.outbox.account_mail_queue writes it, its task not queued."""
    return AccountMail.objects.create(user=user, kind=kind, language=language, address=address)


def run_mail_task(row: AccountMail, **options) -> EagerResult:
    """The row's task, run here as a worker would run it (retries included)."""
    return account_mail_send_task.apply(args=(row.pk,), **options)


def wait_for_mail(count: int = 1, timeout: float = 10) -> list:
    """The outbox once it holds `count` mails (a worker sends them)."""
    deadline = time.monotonic() + timeout
    while len(mail.outbox) < count:
        assert time.monotonic() < deadline, f"{len(mail.outbox)} mails after {timeout}s"
        time.sleep(0.05)
    return mail.outbox
