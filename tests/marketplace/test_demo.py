"""The marketplace part of `seed_demo`."""

from __future__ import annotations

import io

import pytest

from accounts import demo as accounts_demo
from marketplace import demo
from marketplace.models import Consult, LawyerProfile, Question, Region, VerificationDecision

pytestmark = pytest.mark.django_db


def counts() -> tuple[int, ...]:
    return (
        LawyerProfile.objects.count(),
        LawyerProfile.objects.filter(verification="pending").count(),
        Question.objects.count(),
        Consult.objects.count(),
        VerificationDecision.objects.count(),
    )


def test_seed_gives_profiles_applicants_and_the_demo_askers_consults_once():
    # given
    accounts_demo.seed(io.StringIO())
    # when
    demo.seed(io.StringIO())
    first = counts()
    demo.seed(io.StringIO())
    # then
    assert counts() == first
    assert first[0] == 300 + len(demo.APPLICANTS)
    assert first[1] == len(demo.APPLICANTS)
    states = set(Consult.objects.filter(asker__username="asker001").values_list("state", flat=True))
    assert states == {"resolved", "active", "expired"}
    active = Consult.objects.get(state="active")
    assert active.conversation is not None and active.first_reply_at is not None
    jinan = LawyerProfile.objects.get(user__username="lawyer001")
    assert jinan.home_city_id == "370100" and jinan.is_verified
    shandong = set(Region.objects.filter(parent_id="370000").values_list("code", flat=True))
    homes = LawyerProfile.objects.filter(home_city__parent_id="370000")
    assert set(homes.values_list("home_city_id", flat=True)) == shandong  # every city has some
    assert Question.objects.filter(search_vector__isnull=True).count() == 0
