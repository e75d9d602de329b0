"""The base class of every Lawline task (config.celery_app sets it as the app's task class).

`delay_on_commit` / `apply_async_on_commit` enqueue after the caller's transaction commits, as
Celery's DjangoTask does, with one difference: a broker that cannot be reached at that moment
does not make the caller fail. Its transaction has already committed, so an exception there
would only turn a stored consult, message or decision into an HTTP 500 or an error frame, and
the client would retry something that succeeded. The task is lost instead, and the rows it was
about are picked up again by what scans them: beat's matching sweeps and a lawyer's next
heartbeat (matching), the payment resettle job (captures and cancels), the SLA sweep
(tests/reliability/test_redis_restart.py).
"""

from __future__ import annotations

import logging
from typing import Any

from celery.contrib.django.task import DjangoTask
from django.db import transaction

logger = logging.getLogger(__name__)


class LawlineTask(DjangoTask):
    def delay_on_commit(self, *args: Any, **kwargs: Any) -> None:
        self.apply_async_on_commit(args, kwargs)

    def apply_async_on_commit(self, *args: Any, **kwargs: Any) -> None:
        def enqueue() -> None:
            try:
                self.apply_async(*args, **kwargs)
            except Exception as exc:
                # the task's name only: its arguments are ids, but nothing of a call is logged
                logger.warning("%s not enqueued after commit: %s", self.name, type(exc).__name__)

        transaction.on_commit(enqueue)
