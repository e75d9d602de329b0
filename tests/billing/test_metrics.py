"""The metric math on fixed timestamps."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from billing import metrics
from billing.models import Rating
from marketplace.models import Consult, Offer
from tests.billing.factories import make_active, pending_consult
from tests.factories import LawyerProfileFactory

T0 = timezone.now().replace(microsecond=0) - timedelta(days=1)


def s(seconds: int):
    return T0 + timedelta(seconds=seconds)


def answered(lawyer, *, offered: int, accepted: int, replied: int, queued_at=None) -> Consult:
    consult = pending_consult()
    consult = make_active(
        consult, lawyer, queued_at=queued_at or T0, offered_at=s(offered), accepted_at=s(accepted)
    )
    Consult.objects.filter(pk=consult.pk).update(first_reply_at=s(replied))
    consult.refresh_from_db()
    return consult


@pytest.fixture
def lawyer_one(db):
    return LawyerProfileFactory().user


@pytest.fixture
def lawyer_two(db):
    return LawyerProfileFactory().user


@pytest.fixture
def history(lawyer_one, lawyer_two):
    """lawyer_one answers three consults 80 s, 60 s and 200 s after their own offers; one of
    them reached lawyer_one only after a widened search, 300 s after it was queued."""
    a = answered(lawyer_one, offered=30, accepted=50, replied=110)
    b = answered(lawyer_one, offered=300, accepted=320, replied=360)
    c = answered(lawyer_one, offered=0, accepted=100, replied=200)
    # 40 days ago: outside the 30-day window
    answered(lawyer_one, offered=0, accepted=5, replied=9999, queued_at=T0 - timedelta(days=40))
    Consult.objects.filter(first_reply_at=s(9999)).update(first_reply_at=T0 - timedelta(days=39))
    d = answered(lawyer_two, offered=0, accepted=10, replied=30)
    for state in (Offer.State.DECLINED, Offer.State.EXPIRED, Offer.State.REVOKED):
        Offer.objects.create(
            consult=d, lawyer=lawyer_two, state=state, scope="city", expires_at=s(60)
        )
    for consult, score in ((a, 5), (b, 4), (c, 2)):
        Rating.objects.create(consult=consult, asker=consult.asker, lawyer=lawyer_one, score=score)
    return a, b, c, d


def test_consult_timings_from_queue_and_from_the_lawyers_own_offer(history):
    a = history[0]
    timings = metrics.consult_timings(a)
    assert timings.time_to_accept_seconds == 50
    assert timings.time_to_first_reply_seconds == 110
    assert timings.lawyer_time_to_accept_seconds == 20
    assert timings.lawyer_response_seconds == 80


def test_lawyer_percentiles_run_from_their_own_offer_within_the_window(history, lawyer_one):
    figures = metrics.lawyer_response_figures(since=metrics.window_start())[lawyer_one.pk]
    # waits 60, 80, 200 (not 360 for the widened one; not the 40-day-old one)
    assert figures.count == 3
    assert figures.p50_seconds == 80
    assert figures.p90_seconds == 176  # 80 + 0.8 * (200 - 80)


def test_platform_response_is_what_the_asker_waited(history):
    figures = metrics.platform_response_figures(since=metrics.window_start())
    # 110, 360, 200 and 30
    assert figures.count == 4
    assert figures.avg_seconds == 175
    assert figures.p50_seconds == 155


def test_acceptance_rate_ignores_revoked_offers(history, lawyer_one, lawyer_two):
    rates = metrics.lawyer_acceptance_rates(since=metrics.window_start())
    assert rates[lawyer_one.pk] == 1.0
    assert rates[lawyer_two.pk] == pytest.approx(0.3333)


def test_satisfaction_counts_four_and_five_as_positive(history, lawyer_one):
    figures = metrics.lawyer_rating_figures()[lawyer_one.pk]
    assert figures.count == 3
    assert figures.average == Decimal("3.67")
    assert figures.positive_rate == pytest.approx(0.6667)
    assert metrics.platform_satisfaction().positive_rate == pytest.approx(0.6667)


def test_no_data_is_none_not_a_made_up_figure(db):
    since = metrics.window_start()
    assert metrics.platform_response_figures(since=since).avg_seconds is None
    assert metrics.platform_satisfaction().positive_rate is None


def test_rollup_writes_the_profile_figures_once(history, lawyer_one, lawyer_two):
    # when
    changed = metrics.lawyer_profiles_refresh_metrics()
    # then
    profile = lawyer_one.lawyer_profile
    profile.refresh_from_db()
    assert (profile.rating_avg, profile.rating_count) == (Decimal("3.67"), 3)
    assert (profile.response_p50_seconds, profile.response_p90_seconds) == (80, 176)
    lawyer_two.lawyer_profile.refresh_from_db()
    assert lawyer_two.lawyer_profile.response_p50_seconds == 30
    assert changed == 2
    assert metrics.lawyer_profiles_refresh_metrics() == 0
