"""The staff dashboard page: staff only (404 for everyone else), in a fixed number of queries."""

from __future__ import annotations

import json
import re

import pytest
from django.test import Client

from tests.factories import LawyerProfileFactory
from tests.pages.factories import ConsultFactory

pytestmark = pytest.mark.django_db


def client_for(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_dashboard_is_404_for_anonymous_visitors():
    assert Client().get("/dashboard/").status_code == 404


@pytest.mark.parametrize("role", ["asker", "lawyer"])
def test_dashboard_is_404_for_non_staff(role, request):
    user = request.getfixturevalue(role)
    assert client_for(user).get("/dashboard/").status_code == 404


def test_dashboard_shows_figures_and_verification_queue_to_staff(staff, django_assert_num_queries):
    # given waiting consults and lawyers waiting for verification
    ConsultFactory.create_batch(3)
    profile, *_ = LawyerProfileFactory.create_batch(3, verification="pending")
    client = client_for(staff)
    # when: session, user; the verification queue with its total, and its practice areas;
    # billing's figures (consults, waiting list, payments, ledger, ratings, and the region codes
    # presence reads once per process: 2 here, as every test starts with empty caches);
    # categories for names; the nav's unread notices
    with django_assert_num_queries(13):
        response = client.get("/dashboard/")
    # then
    assert response.status_code == 200
    html = response.content.decode()
    assert 'id="dashboard-initial"' in html
    assert f'data-lawyer="{profile.user_id}"' in html


def test_dashboard_counts_every_waiting_verification_not_only_those_listed(staff, monkeypatch):
    # given three lawyers waiting for verification, of which the dashboard lists two
    from dashboard import selectors

    monkeypatch.setattr(selectors, "VERIFICATIONS_LISTED", 2)
    LawyerProfileFactory.create_batch(3, verification="pending")
    # when
    html = client_for(staff).get("/dashboard/").content.decode()
    # then the badge counts all three and the page says the third is not shown yet
    assert re.search(r"data-verification-count>3<", html)
    assert html.count('data-lawyer="') == 2
    assert "data-verifications-more" in html


def test_dashboard_names_verification_outcomes_in_the_page_language(staff):
    # when
    response = client_for(staff).get("/dashboard/")
    # then: the script shows a decision's outcome by these names, not the raw code
    labels = json.loads(
        re.search(
            r'<script id="dashboard-labels" type="application/json">(.*?)</script>',
            response.content.decode(),
            re.S,
        ).group(1)
    )
    assert labels["verification"]["verified"] == "已认证"
    assert labels["verification"]["rejected"] == "已驳回"


def test_dashboard_names_answered_consults_and_the_matching_column_in_its_own_words(staff):
    # when
    html = client_for(staff).get("/dashboard/").content.decode()
    # then: not a public question's 已解答, nor the Q&A search button's 搜索
    assert "<dt>已回复</dt>" in html
    assert '<th scope="col">匹配</th>' in html
