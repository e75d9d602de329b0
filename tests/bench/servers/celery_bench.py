"""The project's Celery app plus one no-op task: the Celery round-trip reference runs on the
same workers, broker and settings as the matching figures."""

from __future__ import annotations

import time

from config.celery_app import app


@app.task(name="bench.noop", acks_late=True, ignore_result=False)  # the round trip reads it
def noop(sent_at: float) -> dict[str, float]:
    return {"sent_at": sent_at, "started_at": time.time()}


__all__ = ["app", "noop"]
