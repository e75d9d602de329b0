"""The staff dashboard page: staff only (404 for everyone else), in a fixed number of queries."""

from __future__ import annotations

import json
import re
from datetime import timedelta

import pytest
from asgiref.sync import async_to_sync
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from billing.models import LedgerEntry, Payment, Rating
from marketplace import presence
from marketplace.models import Category, Consult, Region
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


# --- the number of queries does not grow with the rows ----------------------------------------
def add_dashboard_rows(n: int) -> None:
    """n of everything the dashboard lists or counts, spread over cities, practice areas and
    currencies: lawyers online, lawyers waiting for verification, consults waiting, and
    answered, paid, rated and expired ones."""
    now = timezone.now()
    cities = list(Region.objects.filter(level=Region.Level.CITY).order_by("code")[:n])
    categories = list(Category.objects.all())
    for i, profile in enumerate(LawyerProfileFactory.create_batch(n)):
        home = presence.Home(cities[i].code, cities[i].parent_id or "")
        async_to_sync(presence.heartbeat)(profile.user_id, home=home, status="online")
    LawyerProfileFactory.create_batch(n, verification="pending")
    for i in range(n):
        where = {"question__city": cities[i], "question__category": categories[i % 3]}
        ConsultFactory(**where, state=Consult.State.OFFERED if i % 2 else Consult.State.QUEUED)
        lawyer = LawyerProfileFactory().user
        done = ConsultFactory(
            **where,
            lawyer=lawyer,
            state=Consult.State.RESOLVED,
            queued_at=now - timedelta(seconds=300 + i),
            first_offered_at=now - timedelta(seconds=290),
            accepted_at=now - timedelta(seconds=200),
            first_reply_at=now - timedelta(seconds=100 - i),
        )
        payment = Payment.objects.create(
            consult=done,
            gateway=Payment.Gateway.SANDBOX,
            amount=4900,
            currency=("CNY", "USD")[i % 2],
            platform_fee_bp=2000,
            state=Payment.State.CAPTURED,
            captured_at=now - timedelta(seconds=60),
        )
        LedgerEntry.objects.bulk_create(
            LedgerEntry(
                payment=payment,
                consult=done,
                lawyer=who,
                kind=kind,
                amount=amount,
                currency=payment.currency,
            )
            for kind, who, amount in (
                (LedgerEntry.Kind.PLATFORM_FEE, None, 980),
                (LedgerEntry.Kind.LAWYER_EARNING, lawyer, 3920),
            )
        )
        Rating.objects.create(consult=done, asker=done.asker, lawyer=lawyer, score=5 - i % 2)
        ConsultFactory(**where, state=Consult.State.EXPIRED, expired_at=now)


def queries_of(client: Client, url: str) -> int:
    client.get(url)  # per-process caches (presence's region codes) filled, as in production
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    assert response.status_code == 200
    return len(queries.captured_queries)


# the requests of an open dashboard, and the most queries each may make
DASHBOARD_QUERIES = {
    # session, user; verification queue with its total, its practice areas; names of the
    # regions with lawyers online; consults, waiting list, payments, ledger, ratings;
    # categories for names; the nav's unread notices
    "/dashboard/": 12,
    # what the page polls: session, user, and billing's figures as above
    "/api/v1/admin/dashboard": 8,
    # what the page fetches on `verification.changed`: session, user, the queue, its areas
    "/dashboard/verifications/": 4,
}


def test_dashboard_queries_do_not_grow_with_the_rows(staff):
    # given 5 of everything the dashboard shows
    client = client_for(staff)
    add_dashboard_rows(5)
    few = {url: queries_of(client, url) for url in DASHBOARD_QUERIES}
    # when there are 50: more than the page lists of waiting consults and verifications
    add_dashboard_rows(45)
    many = {url: queries_of(client, url) for url in DASHBOARD_QUERIES}
    # then
    assert few == many
    assert all(many[url] <= most for url, most in DASHBOARD_QUERIES.items()), many
