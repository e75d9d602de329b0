from __future__ import annotations

from datetime import timedelta

import pytest
from asgiref.sync import async_to_sync
from django.utils import timezone

from billing.models import Rating
from billing.services import (
    payment_refund,
)
from marketplace import presence
from marketplace.models import Consult, Question
from tests.billing.factories import captured_for, make_active, pending_consult
from tests.factories import AskerFactory, LawyerProfileFactory


def resolved_consult(asker=None) -> Consult:
    consult = make_active(pending_consult(asker=asker))
    Consult.objects.filter(pk=consult.pk).update(
        state=Consult.State.RESOLVED,
        first_reply_at=consult.queued_at + timedelta(seconds=90),
        closed_at=timezone.now(),
    )
    consult.refresh_from_db()
    return consult


# --- ratings -----------------------------------------------------------------------------------
def test_asker_rates_a_closed_consult_once(api, asker):
    # given
    consult = resolved_consult(asker)
    # when
    first = api(asker).post(f"consults/{consult.pk}/rating", {"score": 5, "comment": "很专业"})
    second = api(asker).post(f"consults/{consult.pk}/rating", {"score": 1})
    # then
    assert first.status_code == 201
    assert first.json()["score"] == 5
    assert second.status_code == 409
    assert second.json()["code"] == "already_rated"
    assert Rating.objects.get().lawyer_id == consult.lawyer_id


def test_only_the_asker_may_rate(api, other_asker, asker):
    consult = resolved_consult(asker)
    assert api(other_asker).post(f"consults/{consult.pk}/rating", {"score": 5}).status_code == 404
    assert (
        api(consult.lawyer).post(f"consults/{consult.pk}/rating", {"score": 5}).status_code == 404
    )


def test_an_open_consult_cannot_be_rated(api, asker):
    consult = make_active(pending_consult(asker=asker))
    response = api(asker).post(f"consults/{consult.pk}/rating", {"score": 4})
    assert response.status_code == 409
    assert response.json()["code"] == "consult_not_closed"


@pytest.mark.parametrize("score", [0, 6, 4.5, "5"])
def test_score_is_a_whole_number_from_1_to_5(api, asker, score):
    consult = resolved_consult(asker)
    response = api(asker).post(f"consults/{consult.pk}/rating", {"score": score})
    assert response.status_code == 422
    assert not Rating.objects.exists()


# --- earnings -----------------------------------------------------------------------------------
def test_lawyer_sees_own_earnings_after_the_platform_fee(
    api, db, sandbox_on, django_assert_num_queries
):
    # given two captured consults of one lawyer and one of another
    lawyer, other = LawyerProfileFactory().user, LawyerProfileFactory().user
    asker = AskerFactory()
    captured_for(lawyer, asker, price=4900)
    captured_for(lawyer, asker, price=10000)
    captured_for(other, asker, price=8800)
    client = api(lawyer)
    # when
    with django_assert_num_queries(5):  # token, token touch, totals, pending, entries
        response = client.get("lawyer/earnings")
    # then
    assert response.status_code == 200
    body = response.json()
    assert body["totals"] == [
        {
            "currency": "CNY",
            "earned": 3920 + 8000,
            "refunded": 0,
            "net": 11920,
            "consults": 2,
            "refunded_consults": 0,
        }
    ]
    assert len(body["entries"]) == 2
    assert all(isinstance(e["amount"], int) for e in body["entries"])


def test_a_refunded_consult_no_longer_counts_as_a_paying_one(api, db, sandbox_on, staff):
    # given two captured consults of one lawyer, then staff refund one of them
    lawyer, asker = LawyerProfileFactory().user, AskerFactory()
    captured_for(lawyer, asker, price=4900)
    refunded = captured_for(lawyer, asker, price=10000)
    payment_refund(payment_id=refunded.pk, staff=staff)
    # when
    totals = api(lawyer).get("lawyer/earnings").json()["totals"]
    # then
    assert totals == [
        {
            "currency": "CNY",
            "earned": 3920 + 8000,
            "refunded": 8000,
            "net": 3920,
            "consults": 1,
            "refunded_consults": 1,
        }
    ]


def test_earnings_are_for_lawyers_only(api, asker):
    assert api(asker).get("lawyer/earnings").status_code == 403


def test_lawyer_stats_show_own_figures(api, lawyer):
    LawyerProfileFactory(user=lawyer)
    body = api(lawyer).get("lawyer/stats").json()
    assert body["answered_consults"] == 0
    assert body["response_p50_seconds"] is None


# --- public figures ------------------------------------------------------------------------------
def test_public_stats_come_from_real_data_with_no_part_of_a_phone(
    api, db, django_assert_num_queries
):
    # given one lawyer online, one answered consult rated 5 and one rated 2
    lawyer = LawyerProfileFactory()
    async_to_sync(presence.heartbeat)(
        lawyer.user_id, home=presence.Home("370100", "370000"), status="online"
    )
    asker = AskerFactory(phone="16212343566", last_name="王", first_name="小明")
    first, second = resolved_consult(asker), resolved_consult(asker)
    Rating.objects.create(consult=first, asker=asker, lawyer=first.lawyer, score=5)
    Rating.objects.create(consult=second, asker=asker, lawyer=second.lawyer, score=2)
    Question.objects.filter(pk__in=[first.question_id, second.question_id]).update(is_public=True)
    client = api(None)
    # when
    with django_assert_num_queries(3):  # response figures, satisfaction, the ticker
        body = client.get("stats/public").json()
    # then
    assert body["lawyers_online"] == 1
    assert body["avg_first_response_seconds"] == 90
    assert body["satisfaction_rate"] == 0.5
    city = first.question.city
    assert body["recent"][0] == {
        "city": city.short_zh,
        "asker": f"{city.short_zh}的用户",
        "masked_phone": "",
        "seconds_ago": body["recent"][0]["seconds_ago"],
    }
    assert "3566" not in str(body) and "****" not in str(body) and "王" not in str(body)


def test_the_ticker_names_the_city_only_of_a_public_question_in_the_readers_language(api, db):
    # given a consult from a public question, then one from a private question
    public = resolved_consult(AskerFactory(phone="16212343566"))
    resolved_consult(AskerFactory(phone="16212340000"))
    Question.objects.filter(pk=public.question_id).update(is_public=True)
    # when a reader of English asks
    client = api(None)
    body = client.client.get("/api/v1/stats/public", HTTP_ACCEPT_LANGUAGE="en").json()
    # then the private question's asker is just "A user", the public one's "A user in <city>"
    newest, older = body["recent"]
    assert (newest["city"], newest["asker"]) == ("", "A user")
    city = public.question.city.name_en
    assert (older["city"], older["asker"]) == (city, f"A user in {city}")
    assert all(item["masked_phone"] == "" for item in body["recent"])


def test_public_stats_without_data_show_none(api, db):
    body = api(None).get("stats/public").json()
    assert body["avg_first_response_seconds"] is None
    assert body["satisfaction_rate"] is None
    assert body["recent"] == []


# --- the staff dashboard -------------------------------------------------------------------------
def test_dashboard_is_404_to_everyone_but_staff(api, asker, lawyer):
    assert api(asker).get("admin/dashboard").status_code == 404
    assert api(lawyer).get("admin/dashboard").status_code == 404
    assert api(None).get("admin/dashboard").status_code == 401


def test_dashboard_figures(api, staff, sandbox_on, django_assert_num_queries):
    # given a captured consult, a free waiting one and an expired one
    lawyer = LawyerProfileFactory()
    async_to_sync(presence.heartbeat)(
        lawyer.user_id, home=presence.Home("370100", "370000"), status="online"
    )
    asker = AskerFactory()
    captured_for(lawyer.user, asker, price=5000)
    waiting = pending_consult(asker=asker)
    Consult.objects.filter(pk=waiting.pk).update(
        state=Consult.State.QUEUED,
        is_paid=False,
        queued_at=timezone.now() - timedelta(seconds=120),
        sla_deadline=timezone.now() + timedelta(seconds=480),
    )
    expired = pending_consult(asker=asker)
    Consult.objects.filter(pk=expired.pk).update(
        state=Consult.State.EXPIRED, expired_at=timezone.now()
    )
    client = api(staff)
    # when: a fixed number of queries however many consults wait (no N+1): the token with its
    # user, and its last use; region codes (read once per process: every test starts with empty
    # caches) and names of who is online; consults, waiting list, payments, ledger, ratings
    with django_assert_num_queries(10):
        body = client.get("admin/dashboard").json()
    # then
    assert body["online"]["total"] == 1
    assert body["online"]["provinces"][0] == {
        "code": "370000",
        "name": body["online"]["provinces"][0]["name"],
        "parent": "100000",
        "online": 1,
    }
    assert body["online"]["cities"][0]["code"] == "370100"
    assert body["waiting"]["count"] == 1
    assert 119 <= body["waiting"]["oldest"][0]["age_seconds"] <= 125
    assert body["sla_breaches"] == {"today": 1, "last_7_days": 1}
    assert body["revenue"]["today"] == [
        {
            "currency": "CNY",
            "gross": 5000,
            "payments": 1,
            "platform_fees": 1000,
            "lawyer_earnings": 4000,
            "refunded": 0,
        }
    ]
    assert body["funnel_7_days"]["created"] == 3
    # the waiting one is free: it entered matching, it was not paid
    assert (body["funnel_7_days"]["queued"], body["funnel_7_days"]["paid"]) == (2, 1)
    assert body["funnel_7_days"]["answered"] == 1
    assert body["response"]["last_7_days"]["count"] == 1
