"""Celery wrappers around qa services: no arguments, idempotent, bounded."""

from __future__ import annotations

from celery import shared_task
from django.db import OperationalError
from redis.exceptions import RedisError

from qa import view_counts


@shared_task(
    name="qa.views_flush",
    acks_late=True,
    time_limit=50,
    soft_time_limit=40,
    autoretry_for=(OperationalError, RedisError),
    retry_backoff=1,
    retry_backoff_max=10,
    max_retries=3,
)
def views_flush(**_kwargs) -> int:
    """Add the views counted in Redis to the questions; safe to run twice or after a crash."""
    return view_counts.views_flush().views
