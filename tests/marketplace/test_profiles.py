"""Lawyer profiles (PUT/GET /lawyer/profile, GET /lawyers/{id}) and the verification workflow
(POST /admin/lawyers/{id}/verify)."""

from __future__ import annotations

import time

import pytest
from django.utils import translation

from marketplace import errors, services
from marketplace.models import LawyerProfile, VerificationDecision
from messaging.models import Message
from messaging.notices import render_notice
from tests.factories import LawyerProfileFactory, StaffFactory

pytestmark = pytest.mark.django_db

PROFILE = {
    "license_number": "13701201810123456",
    "city": "370100",
    "regions_served": ["370100", "370200"],
    "categories": ["debt", "labour"],
    "capacity": 4,
}


def test_lawyer_submits_profile_and_waits_for_review(api, lawyer):
    # when
    response = api(lawyer).put("lawyer/profile", PROFILE)
    # then
    assert response.status_code == 200, response.json()
    body = response.json()
    assert body["verification"] == "pending"
    assert body["submitted_at"] is not None
    assert body["city"]["code"] == "370100"
    assert [r["code"] for r in body["regions_served"]] == ["370100", "370200"]
    assert [c["slug"] for c in body["categories"]] == ["debt", "labour"]
    assert body["capacity"] == 4


def test_profile_without_license_number_stays_unsubmitted(api, lawyer):
    response = api(lawyer).put("lawyer/profile", {"city": "370100", "categories": ["debt"]})

    assert response.json()["verification"] == "unsubmitted"
    # the home city is served by default
    assert [r["code"] for r in response.json()["regions_served"]] == ["370100"]


def test_price_and_currency_are_stored(api, lawyer):
    response = api(lawyer).put("lawyer/profile", {**PROFILE, "price": 9900, "currency": "cny"})

    assert (response.json()["price"], response.json()["currency"]) == (9900, "CNY")


def test_editing_capacity_keeps_a_verified_lawyer_verified(api):
    profile = LawyerProfileFactory()

    response = api(profile.user).put("lawyer/profile", {"capacity": 5})

    assert response.json()["verification"] == "verified"


def test_changing_the_license_number_sends_a_verified_lawyer_back_to_review(api):
    profile = LawyerProfileFactory()

    response = api(profile.user).put("lawyer/profile", {"license_number": "13701201899999999"})

    assert response.json()["verification"] == "pending"
    profile.refresh_from_db()
    assert not profile.is_verified


@pytest.mark.parametrize(
    ("change", "status", "code"),
    [
        ({"license_number": "12345"}, 422, "invalid_license_number"),
        ({"license_number": "1370120181012345X"}, 422, "invalid_license_number"),
        # Arabic-Indic digits are digits to `\d`, but not a licence number
        ({"license_number": "١٣٧٠١٢٠١٨١٠١٢٣٤٥"}, 422, "invalid_license_number"),
        ({"city": "370000"}, 422, "region_not_city"),
        ({"city": "000001"}, 422, "unknown_region"),
        ({"regions_served": ["370100", "999999"]}, 422, "unknown_region"),
        ({"regions_served": ["100000"]}, 422, "unknown_region"),
        ({"categories": []}, 422, "categories_required"),
        ({"categories": ["debt", "astrology"]}, 422, "unknown_category"),
        ({"capacity": 0}, 422, "invalid_capacity"),
        ({"capacity": 21}, 422, "invalid_capacity"),
        ({"capacity": "3"}, 422, "invalid"),
        ({"price": -1}, 422, "invalid_price"),
        ({"currency": "yuan"}, 422, "invalid_currency"),
    ],
)
def test_bad_profile_input_gets_its_code(api, lawyer, change, status, code):
    response = api(lawyer).put("lawyer/profile", {**PROFILE, **change})

    assert response.status_code == status
    assert response.json()["code"] == code
    assert not LawyerProfile.objects.filter(user=lawyer).exists()


def test_full_width_license_digits_are_stored_as_ascii(api, lawyer):
    # given: the number typed with a Chinese input method
    number = "１３７０１－２０１８１０１２３４５６"

    # when
    response = api(lawyer).put("lawyer/profile", {**PROFILE, "license_number": number})

    # then
    assert response.status_code == 200, response.json()
    assert LawyerProfile.objects.get(user=lawyer).license_number == "13701201810123456"


def test_asker_cannot_have_a_lawyer_profile(api, asker):
    response = api(asker).put("lawyer/profile", PROFILE)

    assert response.status_code == 403
    assert response.json()["code"] == "wrong_role"


def test_staff_approves_a_pending_lawyer(api, lawyer, staff):
    # given
    api(lawyer).put("lawyer/profile", PROFILE)
    # when
    response = api(staff).post(
        f"admin/lawyers/{lawyer.pk}/verify", {"approved": True, "reason": "license checked"}
    )
    # then
    assert response.status_code == 200, response.json()
    assert response.json()["verification"] == "verified"
    decision = VerificationDecision.objects.get()
    assert (decision.decided_by, decision.approved, decision.reason) == (
        staff,
        True,
        "license checked",
    )
    assert decision.license_number == PROFILE["license_number"]
    profile = LawyerProfile.objects.get(user=lawyer)
    assert profile.is_verified and profile.verified_at == decision.decided_at


def test_staff_rejects_with_a_reason_and_the_lawyer_sees_it(api, lawyer, staff):
    # given
    api(lawyer).put("lawyer/profile", PROFILE)
    # when
    api(staff).post(
        f"admin/lawyers/{lawyer.pk}/verify", {"approved": False, "reason": "number not found"}
    )
    # then
    own = api(lawyer).get("lawyer/profile").json()
    assert own["verification"] == "rejected"
    assert own["last_decision"]["approved"] is False
    assert own["last_decision"]["reason"] == "number not found"


def test_resubmitting_after_rejection_goes_back_to_pending(api, lawyer, staff):
    api(lawyer).put("lawyer/profile", PROFILE)
    api(staff).post(f"admin/lawyers/{lawyer.pk}/verify", {"approved": False, "reason": "blurry"})

    response = api(lawyer).put("lawyer/profile", PROFILE)

    assert response.json()["verification"] == "pending"


def test_rejection_needs_a_reason(api, lawyer, staff):
    api(lawyer).put("lawyer/profile", PROFILE)

    response = api(staff).post(f"admin/lawyers/{lawyer.pk}/verify", {"approved": False})

    assert response.status_code == 422
    assert response.json()["code"] == "reason_required"
    assert not VerificationDecision.objects.exists()


def test_verifying_a_lawyer_who_submitted_nothing_is_a_conflict(api, lawyer, staff):
    api(lawyer).put("lawyer/profile", {"city": "370100"})

    response = api(staff).post(f"admin/lawyers/{lawyer.pk}/verify", {"approved": True})

    assert response.status_code == 409
    assert response.json()["code"] == "verification_not_submitted"


def test_verifying_someone_without_a_profile_is_404(api, asker, staff):
    response = api(staff).post(f"admin/lawyers/{asker.pk}/verify", {"approved": True})

    assert response.status_code == 404


@pytest.mark.parametrize("who", ["asker", "other_lawyer", "lawyer"])
def test_only_staff_may_verify_and_others_learn_nothing(api, request, lawyer, who):
    # given
    api(lawyer).put("lawyer/profile", PROFILE)
    caller = request.getfixturevalue(who)
    # when
    response = api(caller).post(f"admin/lawyers/{lawyer.pk}/verify", {"approved": True})
    # then
    assert response.status_code == 404
    assert LawyerProfile.objects.get(user=lawyer).verification == "pending"
    assert not VerificationDecision.objects.exists()


def test_anonymous_cannot_verify(api, lawyer):
    response = api(None).post(f"admin/lawyers/{lawyer.pk}/verify", {"approved": True})

    assert response.status_code == 401


def test_staff_lists_the_pending_queue_oldest_first(api, staff):
    # given
    first = LawyerProfileFactory(verification="pending")
    second = LawyerProfileFactory(verification="pending")
    LawyerProfileFactory()
    first.submitted_at, second.submitted_at = "2026-01-01T00:00Z", "2026-01-02T00:00Z"
    first.save()
    second.save()
    # when
    body = api(staff).get("admin/lawyers", {"verification": "pending"}).json()
    # then
    assert [p["id"] for p in body["items"]] == [first.user_id, second.user_id]


def test_non_staff_cannot_list_the_verification_queue(api, asker):
    assert api(asker).get("admin/lawyers").status_code == 404


def test_public_profile_of_a_verified_lawyer(api):
    profile = LawyerProfileFactory(firm="德衡律师事务所")

    response = api(None).get(f"lawyers/{profile.user_id}")

    assert response.status_code == 200
    body = response.json()
    assert body["firm"] == "德衡律师事务所"
    assert body["verified"] is True
    assert body["status"] == "offline"
    assert "license_number" not in body


@pytest.mark.parametrize("status", ["pending", "rejected", "unsubmitted"])
def test_unverified_lawyer_has_no_public_profile(api, status):
    profile = LawyerProfileFactory(verification=status)

    assert api(None).get(f"lawyers/{profile.user_id}").status_code == 404


@pytest.mark.django_db(transaction=True)
def test_the_lawyer_hears_of_each_verification_decision(celery_test_worker, staff):
    # given a lawyer waiting for review
    profile = LawyerProfileFactory(verification=LawyerProfile.Verification.PENDING)
    lawyer = profile.user
    # when staff reject with a reason, and after a resubmission approve (each notice goes by a
    # task on a real worker)
    services.lawyer_verify(staff=staff, lawyer_id=lawyer.pk, approved=False, reason="证号不符")
    services.lawyer_verify(staff=staff, lawyer_id=lawyer.pk, approved=True)
    # then the lawyer's inbox holds both, in the order decided
    inbox = Message.objects.filter(conversation__participants__user=lawyer).order_by("seq")
    deadline = time.monotonic() + 10
    while inbox.count() < 2:
        assert time.monotonic() < deadline, list(inbox.values_list("notice", flat=True))
        time.sleep(0.05)
    rejected, verified = inbox
    assert rejected.notice["kind"] == "lawyer_rejected"
    assert verified.notice["kind"] == "lawyer_verified"
    with translation.override("zh-hans"):
        assert "证号不符" in render_notice(rejected.notice["kind"], rejected.notice["params"])


def test_verify_with_the_status_seen_decides(api, lawyer, staff):
    # given a lawyer waiting for review
    api(lawyer).put("lawyer/profile", PROFILE)
    # when staff approve, saying they saw it pending
    response = api(staff).post(
        f"admin/lawyers/{lawyer.pk}/verify", {"approved": True, "expected": "pending"}
    )
    # then
    assert response.status_code == 200
    assert response.json()["verification"] == "verified"


def test_verify_after_a_colleague_decided_is_verification_changed(api, lawyer, staff):
    # given a lawyer a colleague has just approved
    api(lawyer).put("lawyer/profile", PROFILE)
    api(StaffFactory()).post(f"admin/lawyers/{lawyer.pk}/verify", {"approved": True})
    # when staff reject what they saw as pending
    response = api(staff).post(
        f"admin/lawyers/{lawyer.pk}/verify",
        {"approved": False, "reason": "证号不符", "expected": "pending"},
    )
    # then nothing is recorded over the colleague's decision
    assert response.status_code == 409
    assert response.json()["code"] == errors.VerificationChanged.code
    assert LawyerProfile.objects.get(user=lawyer).verification == "verified"
    assert VerificationDecision.objects.count() == 1


@pytest.mark.parametrize("expected", ["unsubmitted", "approved", ""])
def test_verify_with_an_unknown_expected_status_is_invalid_expected(api, lawyer, staff, expected):
    # given
    api(lawyer).put("lawyer/profile", PROFILE)
    # when
    response = api(staff).post(
        f"admin/lawyers/{lawyer.pk}/verify", {"approved": True, "expected": expected}
    )
    # then
    assert response.status_code == 422
    assert response.json()["code"] == errors.InvalidExpectedStatus.code == "invalid_expected"
    assert response.json()["fields"].keys() == {"expected"}
    assert not VerificationDecision.objects.exists()
