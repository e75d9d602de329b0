"""Which welcome a new user gets (messaging.notices.welcome_kind)."""

import pytest
from django.utils import translation

from marketplace.models import LawyerProfile
from messaging.notices import render_notice, welcome_kind
from tests.factories import AskerFactory, LawyerProfileFactory

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("verification", "kind", "says"),
    [
        (LawyerProfile.Verification.PENDING, "welcome_lawyer", "Complete your profile"),
        (
            LawyerProfile.Verification.VERIFIED,
            "welcome_lawyer_verified",
            "Your licence is verified",
        ),
    ],
)
def test_a_lawyer_is_asked_to_get_verified_only_when_not_yet(verification, kind, says):
    # given a lawyer whose licence is waiting for staff, or verified from the start (the demo's)
    lawyer = LawyerProfileFactory(verification=verification).user
    # then the welcome fits
    assert welcome_kind(lawyer) == kind
    with translation.override("en"):
        assert says in render_notice(kind, {"name": lawyer.display_name})


def test_an_asker_gets_the_askers_welcome():
    assert welcome_kind(AskerFactory()) == "welcome"
