"""Celery wrappers around marketplace services: ids only as arguments, idempotent, bounded.

`marketplace.match*` and `marketplace.offers.*` run on the `matching` queue (workers.routing),
so a backlog of slow jobs never delays putting a consult in front of a lawyer.
"""

from __future__ import annotations

from celery import shared_task
from django.db import OperationalError
from redis.exceptions import RedisError

from marketplace import matching, presence, services

RETRYABLE = (OperationalError, RedisError)
# a job about one consult or one lawyer: short, and tried again soon when a server is briefly away
PER_LAWYER_OR_CONSULT = {
    "acks_late": True,
    "time_limit": 30,
    "soft_time_limit": 25,
    "autoretry_for": RETRYABLE,
    "retry_backoff": 0.2,
    "retry_backoff_max": 5,
    "max_retries": 5,
}


@shared_task(
    name="marketplace.match_consult",
    **PER_LAWYER_OR_CONSULT,
)
def match_consult(consult_id: int, search_round: int | None = None, **_kwargs) -> int:
    """One matching pass; a repeat delivery for an already-served round does nothing."""
    return len(matching.match_consult(consult_id=consult_id, search_round=search_round).offer_ids)


@shared_task(
    name="marketplace.match_for_lawyer",
    **PER_LAWYER_OR_CONSULT,
)
def match_for_lawyer(lawyer_id: int, **_kwargs) -> int:
    return matching.match_for_lawyer(lawyer_id=lawyer_id)


@shared_task(
    name="marketplace.match_sweep",
    acks_late=True,
    time_limit=60,
    soft_time_limit=50,
    expires=30,
)
def match_sweep(**_kwargs) -> int:
    return matching.sweep_waiting()


@shared_task(
    name="marketplace.offers.expire_due",
    acks_late=True,
    time_limit=60,
    soft_time_limit=50,
    expires=30,
)
def offers_expire_due(**_kwargs) -> int:
    return matching.expire_due_offers()


@shared_task(
    name="marketplace.offers.withdraw_unverified",
    **PER_LAWYER_OR_CONSULT,
)
def offers_withdraw_unverified(lawyer_id: int, **_kwargs) -> int:
    """After a lawyer lost verification: withdraw any live offer a matching pass wrote just
    before the change committed (nothing when none, or when verified again)."""
    return len(services.lawyer_offers_withdraw_if_unverified(lawyer_id=lawyer_id))


@shared_task(
    name="marketplace.presence_reap",
    acks_late=True,
    time_limit=30,
    soft_time_limit=25,
    expires=30,
)
def presence_reap(**_kwargs) -> int:
    return len(presence.reap())
