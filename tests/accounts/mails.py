"""What the account tests read of mails: the tasks asked for, and the mails a worker sent."""

from __future__ import annotations

import time

from django.core import mail


def tasks_asked(monkeypatch, task) -> list[tuple[tuple, dict]]:
    """Each `task.delay_on_commit` asked for from now on (its args and kwargs), none run."""
    calls: list[tuple[tuple, dict]] = []
    monkeypatch.setattr(task, "delay_on_commit", lambda *a, **kw: calls.append((a, kw)))
    return calls


def wait_for_mail(count: int = 1, timeout: float = 10) -> list:
    """The outbox once it holds `count` mails (a worker sends them)."""
    deadline = time.monotonic() + timeout
    while len(mail.outbox) < count:
        assert time.monotonic() < deadline, f"{len(mail.outbox)} mails after {timeout}s"
        time.sleep(0.05)
    return mail.outbox
