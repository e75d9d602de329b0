"""The staff lawyers' page (/dashboard/lawyers/): filter, search, paginate, verification history,
and approve / reject / revoke through marketplace.services.lawyer_verify. Staff only: everyone
else gets 404, as on the dashboard."""

from __future__ import annotations

import re

import pytest
from django.test import Client

from marketplace import services, tasks
from marketplace.models import LawyerProfile, Offer, VerificationDecision
from tests.factories import LawyerFactory, LawyerProfileFactory, StaffFactory
from tests.marketplace.factories import OfferFactory

pytestmark = pytest.mark.django_db

Verification = LawyerProfile.Verification
URL = "/dashboard/lawyers/"


@pytest.fixture(autouse=True)
def no_tasks(monkeypatch):
    """Decisions send tasks after commit (the lawyer's notice, the second sweep): not here."""
    monkeypatch.setattr(services, "_tell_lawyer_of", lambda decision, lawyer_id: None)
    monkeypatch.setattr(tasks.offers_withdraw_unverified, "delay_on_commit", lambda *a: None)
    monkeypatch.setattr(tasks.match_consult, "delay_on_commit", lambda *a: None)


def client_for(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def decide_url(profile: LawyerProfile) -> str:
    return f"/dashboard/lawyers/{profile.user_id}/decide/"


def listed(html: str) -> list[int]:
    return [int(x) for x in re.findall(r'<li id="lawyer-\d+" data-lawyer="(\d+)"', html)]


def error_code(html: str) -> str | None:
    match = re.search(r'data-error-code="([a-z_]+)"', html)
    return match.group(1) if match else None


# --- who may see it ---------------------------------------------------------------------------


@pytest.mark.parametrize("role", ["anonymous", "asker", "lawyer"])
@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("get", URL),
        ("get", "/dashboard/verifications/"),
        ("post", "/dashboard/lawyers/1/decide/"),
    ],
)
def test_non_staff_get_404_as_if_the_page_did_not_exist(role, method, path, request):
    # given a lawyer who could be decided on
    profile = LawyerProfileFactory(verification=Verification.PENDING)
    path = path.replace("/1/", f"/{profile.user_id}/")
    client = Client() if role == "anonymous" else client_for(request.getfixturevalue(role))
    # when
    response = getattr(client, method)(path, {"action": "approve", "expected": "pending"})
    # then
    assert response.status_code == 404
    assert LawyerProfile.objects.get(pk=profile.pk).verification == Verification.PENDING


def test_the_dashboard_links_to_the_lawyers_page(staff):
    html = client_for(staff).get("/dashboard/").content.decode()

    assert 'href="/dashboard/lawyers/" data-lawyers-link' in html


# --- listing ----------------------------------------------------------------------------------


def test_staff_see_every_submitted_lawyer_with_licence_city_areas_and_history(
    staff, django_assert_num_queries
):
    # given lawyers in each status (and one who submitted nothing), one with two decisions
    decider = StaffFactory(username="reviewer_li")
    revoked = LawyerProfileFactory()
    services.lawyer_verify(staff=decider, lawyer_id=revoked.user_id, approved=True)
    services.lawyer_verify(
        staff=decider, lawyer_id=revoked.user_id, approved=False, reason="执业证已注销"
    )
    LawyerProfileFactory.create_batch(2, verification=Verification.PENDING)
    LawyerProfileFactory(verification=Verification.VERIFIED)
    LawyerProfileFactory(verification=Verification.UNSUBMITTED, license_number="")
    client = client_for(staff)
    # when: session, user, count, page, categories, decisions with who decided, nav notices
    with django_assert_num_queries(7):
        response = client.get(URL)
    # then
    assert response.status_code == 200
    html = response.content.decode()
    assert len(listed(html)) == 4
    assert revoked.license_number in html
    assert "济南" in html  # home city
    assert "执业证已注销" in html and "reviewer_li" in html
    assert "2 条认证记录" in html


@pytest.mark.parametrize("status", ["pending", "verified", "rejected"])
def test_staff_filter_by_status(staff, status):
    # given one lawyer in each status
    profiles = {
        s: LawyerProfileFactory(verification=s) for s in ("pending", "verified", "rejected")
    }
    # when
    html = client_for(staff).get(URL, {"status": status}).content.decode()
    # then
    assert listed(html) == [profiles[status].user_id]


@pytest.mark.parametrize("query", ["李建", "李建国", "jian", "lawyer_li", "137012", "0123456"])
def test_staff_search_by_name_username_or_licence(staff, query):
    # given
    li = LawyerProfileFactory(
        user=LawyerFactory(username="lawyer_li", first_name="建国", last_name="李"),
        license_number="13701201810123456",
    )
    jian = LawyerProfileFactory(
        user=LawyerFactory(username="lawyer_w", first_name="Jian", last_name="Wang"),
        license_number="11010201900000001",
    )
    LawyerProfileFactory(license_number="44030202000000002")
    expected = {
        "李建": li,
        "李建国": li,
        "jian": jian,
        "lawyer_li": li,
        "137012": li,
        "0123456": li,
    }[query]
    # when
    html = client_for(staff).get(URL, {"q": query}).content.decode()
    # then
    assert listed(html) == [expected.user_id]


def test_lawyers_are_paginated(staff, settings, monkeypatch):
    # given more lawyers than a page holds
    from dashboard import views

    monkeypatch.setattr(views, "LAWYERS_PER_PAGE", 3)
    LawyerProfileFactory.create_batch(5, verification=Verification.PENDING)
    client = client_for(staff)
    # when
    first = client.get(URL, {"status": "pending"}).content.decode()
    second = client.get(URL, {"status": "pending", "page": "2"}).content.decode()
    # then
    assert len(listed(first)) == 3 and len(listed(second)) == 2
    assert not set(listed(first)) & set(listed(second))
    assert 'href="/dashboard/lawyers/?status=pending&amp;page=2" rel="next"' in first


@pytest.mark.parametrize(
    ("params", "status", "code"),
    [
        ({"status": "unsubmitted"}, 400, "invalid_status"),
        ({"status": "bogus"}, 400, "invalid_status"),
        ({"page": "abc"}, 400, "invalid_page"),
        ({"page": "0"}, 400, "invalid_page"),
        ({"page": "-1"}, 400, "invalid_page"),
        ({"page": "２"}, 400, "invalid_page"),
        ({"q": "x" * 101}, 400, "search_too_long"),
        ({"page": "99"}, 404, None),
    ],
)
def test_bad_filters_get_a_4xx_with_their_code(staff, params, status, code):
    LawyerProfileFactory()

    response = client_for(staff).get(URL, params)

    assert response.status_code == status
    if code:
        assert error_code(response.content.decode()) == code


# --- deciding ---------------------------------------------------------------------------------


def test_staff_approve_a_rejected_lawyer(staff):
    # given a rejected lawyer
    profile = LawyerProfileFactory(verification=Verification.REJECTED)
    # when
    response = client_for(staff).post(
        decide_url(profile),
        {"action": "approve", "expected": "rejected", "status": "rejected", "q": "", "page": "1"},
    )
    # then back to the list as it was filtered, at the lawyer, and the decision is recorded
    assert response.status_code == 302
    assert response["Location"] == f"/dashboard/lawyers/?status=rejected#lawyer-{profile.user_id}"
    profile.refresh_from_db()
    assert profile.verification == Verification.VERIFIED
    decision = VerificationDecision.objects.get(profile=profile)
    assert (decision.approved, decision.decided_by_id) == (True, staff.pk)


def test_staff_revoke_a_verified_lawyer_whose_live_offers_are_withdrawn(staff):
    # given a verified lawyer holding a live offer
    profile = LawyerProfileFactory()
    offer = OfferFactory(lawyer=profile.user)
    # when staff revoke with a reason and the confirmation ticked
    response = client_for(staff).post(
        decide_url(profile),
        {"action": "revoke", "expected": "verified", "reason": "执业证已注销", "confirm": "yes"},
    )
    # then
    assert response.status_code == 302
    profile.refresh_from_db()
    assert profile.verification == Verification.REJECTED
    assert VerificationDecision.objects.get(profile=profile).reason == "执业证已注销"
    assert Offer.objects.get(pk=offer.pk).state == Offer.State.REVOKED


def test_staff_reject_a_pending_lawyer_with_a_reason(staff):
    profile = LawyerProfileFactory(verification=Verification.PENDING)

    response = client_for(staff).post(
        decide_url(profile), {"action": "reject", "expected": "pending", "reason": "证号不符"}
    )

    assert response.status_code == 302
    assert LawyerProfile.objects.get(pk=profile.pk).verification == Verification.REJECTED


@pytest.mark.parametrize(
    ("form", "status", "code"),
    [
        # a revocation needs the confirmation ticked, and a reason
        ({"action": "revoke", "expected": "verified", "reason": "x"}, 422, "confirmation_required"),
        (
            {"action": "revoke", "expected": "verified", "reason": "x", "confirm": "no"},
            422,
            "confirmation_required",
        ),
        (
            {"action": "revoke", "expected": "verified", "reason": "  ", "confirm": "yes"},
            422,
            "reason_required",
        ),
        (
            {"action": "revoke", "expected": "verified", "reason": "x" * 501, "confirm": "yes"},
            422,
            "reason_too_long",
        ),
        # actions the lawyer's status does not offer, or none
        ({"action": "approve", "expected": "verified"}, 400, "invalid_action"),
        ({"action": "reject", "expected": "verified", "reason": "x"}, 400, "invalid_action"),
        ({"action": "delete", "expected": "verified"}, 400, "invalid_action"),
        ({"expected": "verified"}, 400, "invalid_action"),
        # the page showed another status than the lawyer has now
        ({"action": "approve", "expected": "rejected"}, 409, "verification_changed"),
        (
            {"action": "revoke", "expected": "verified", "reason": "x", "confirm": "yes"},
            409,
            "verification_changed",
        ),
    ],
)
def test_bad_decisions_get_a_4xx_with_their_code_and_change_nothing(staff, form, status, code):
    # given a verified lawyer, or a pending one where the page showed it verified... or rejected
    verification = Verification.PENDING if code == "verification_changed" else None
    profile = LawyerProfileFactory(**({"verification": verification} if verification else {}))
    before = profile.verification
    # when
    response = client_for(staff).post(decide_url(profile), form)
    # then the list comes back with the problem shown at that lawyer
    assert response.status_code == status
    html = response.content.decode()
    assert error_code(html) == code
    assert profile.user_id in listed(html)
    assert LawyerProfile.objects.get(pk=profile.pk).verification == before
    assert not VerificationDecision.objects.filter(profile=profile).exists()


def test_deciding_on_a_lawyer_who_submitted_nothing_is_a_conflict(staff):
    profile = LawyerProfileFactory(verification=Verification.UNSUBMITTED, license_number="")

    response = client_for(staff).post(
        decide_url(profile), {"action": "approve", "expected": "pending"}
    )

    assert response.status_code == 409
    assert error_code(response.content.decode()) == "verification_not_submitted"


def test_deciding_on_someone_who_is_not_a_lawyer_is_404(staff, asker):
    response = client_for(staff).post(
        f"/dashboard/lawyers/{asker.pk}/decide/", {"action": "approve", "expected": "pending"}
    )

    assert response.status_code == 404


def test_the_decide_route_only_takes_post(staff):
    profile = LawyerProfileFactory(verification=Verification.PENDING)

    assert client_for(staff).get(decide_url(profile)).status_code == 405


# --- the dashboard's list, fetched live -------------------------------------------------------


def test_the_verification_list_alone_is_what_the_dashboard_shows(staff, django_assert_num_queries):
    # given two lawyers waiting
    waiting = LawyerProfileFactory.create_batch(2, verification=Verification.PENDING)
    client = client_for(staff)
    # when: session, user, the queue with its total, its practice areas
    with django_assert_num_queries(4):
        response = client.get("/dashboard/verifications/")
    # then
    html = response.content.decode()
    assert response.status_code == 200
    assert 'data-waiting="2"' in html
    assert set(map(int, re.findall(r'<li data-lawyer="(\d+)"', html))) == {
        p.user_id for p in waiting
    }
    assert "<html" not in html


@pytest.mark.parametrize(
    ("language", "texts"),
    [
        (
            "zh-hans",
            ["律师与认证", "撤销认证……", "我确认：该律师即刻起不再接到新的咨询", "1 条认证记录"],
        ),
        (
            "en",
            [
                "Lawyers and verification",
                "Revoke approval…",
                "I confirm: this lawyer",
                "1 decision",
            ],
        ),
    ],
)
def test_the_lawyers_page_reads_in_the_staff_members_language(staff, language, texts):
    # given a verified lawyer with one decision
    profile = LawyerProfileFactory(verification=Verification.PENDING)
    services.lawyer_verify(staff=staff, lawyer_id=profile.user_id, approved=True)
    client = client_for(staff)
    client.cookies["django_language"] = language
    # when
    html = client.get(URL).content.decode()
    # then
    for text in texts:
        assert text in html


def test_a_refusal_reads_in_chinese(staff):
    profile = LawyerProfileFactory()

    response = client_for(staff).post(
        decide_url(profile), {"action": "revoke", "expected": "verified", "reason": "x"}
    )

    assert "请勾选确认框：确认该律师即刻起不再接到咨询。" in response.content.decode()
