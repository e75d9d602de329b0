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
