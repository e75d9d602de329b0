from __future__ import annotations

import pytest

from accounts.models import User
from marketplace.models import LawyerProfile, Question
from qa.models import Answer
from tests.e2e.conftest import (  # noqa: F401 - the browser fixtures, for test_browser.py
    chromium,
    collected_static,
    live_server_url,
    new_context,
    web_server,
)
from tests.factories import LawyerProfileFactory
from tests.qa.factories import AnswerFactory, PublicQuestionFactory


@pytest.fixture
def verified_lawyer(db) -> User:
    return LawyerProfileFactory().user


@pytest.fixture
def unverified_lawyer(db) -> User:
    return LawyerProfileFactory(verification=LawyerProfile.Verification.PENDING).user


@pytest.fixture
def question(asker) -> Question:
    return PublicQuestionFactory(asker=asker)


@pytest.fixture
def answer(question, verified_lawyer) -> Answer:
    """An approved answer to the asker's public question."""
    return AnswerFactory(
        question=question, lawyer=verified_lawyer, bases=[("刑法", "第二百六十四条")]
    )


@pytest.fixture
def other_staff(db) -> User:
    from tests.factories import StaffFactory

    return StaffFactory()
