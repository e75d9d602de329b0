from __future__ import annotations

from collections.abc import Callable

import pytest
from asgiref.sync import async_to_sync

from accounts.models import User
from marketplace import presence
from marketplace.models import LawyerProfile
from tests.factories import LawyerProfileFactory, category, city


def home_of(profile: LawyerProfile) -> presence.Home:
    return presence.Home(city=profile.home_city_id, province=profile.home_city.parent_id)


def put_online(profile: LawyerProfile, status: str = "online", now: float | None = None) -> bool:
    """A heartbeat as the lawyer's socket would send it (sync tests)."""
    return async_to_sync(presence.heartbeat)(
        profile.user_id, home=home_of(profile), status=status, now=now
    )


@pytest.fixture
def matching_settings(settings):
    """Deterministic matching: 3 offers, long expiry, no time-based widening unless a test
    sets it."""
    settings.MATCH_OFFER_TOP_K = 3
    settings.MATCH_OFFER_TTL_SECONDS = 60
    settings.MATCH_WIDEN_TO_PROVINCE_SECONDS = 3600
    settings.MATCH_WIDEN_TO_NATION_SECONDS = 3600
    settings.PRESENCE_TIMEOUT_SECONDS = 60
    return settings


@pytest.fixture
def make_lawyer(db) -> Callable[..., LawyerProfile]:
    """`make_lawyer(home="370100", serves=[...codes], practises=[...slugs], online=True, ...)`
    → a verified lawyer profile, online unless told otherwise."""

    def make(
        *,
        home: str = "370100",
        serves: list[str] | None = None,
        practises: list[str] | None = None,
        online: bool | str = True,
        **fields,
    ) -> LawyerProfile:
        profile = LawyerProfileFactory(
            home_city=city(home),
            serves=[city(code) for code in (serves if serves is not None else [home])],
            practises=[category(slug) for slug in (practises or ["debt"])],
            **fields,
        )
        if online:
            put_online(profile, "online" if online is True else str(online))
        return profile

    return make


@pytest.fixture
def verified_lawyer(make_lawyer) -> User:
    return make_lawyer().user


@pytest.fixture
def settled_worker(celery_test_worker):
    """After the test, wait until the real worker has drained the queues and finished its
    tasks, so no task of this test runs into the next test's database flush."""
    import time

    import redis
    from celery.worker import state
    from django.conf import settings

    from workers.routing import QUEUES

    yield celery_test_worker
    broker = redis.Redis.from_url(settings.CELERY_BROKER_URL)
    try:
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            queued = sum(broker.llen(queue) for queue in QUEUES)
            if not queued and not state.active_requests and not state.reserved_requests:
                break
            time.sleep(0.05)
    finally:
        broker.close()
