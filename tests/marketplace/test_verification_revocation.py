"""A lawyer who stops being verified stops being matched at once (services.lawyer_verify,
lawyer_offers_withdraw): live offers revoked and re-matched, consults in progress left alone, and
an accept racing the revocation never leaves a consult with a lawyer revoked before it."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from accounts import realtime
from marketplace import errors, matching, presence, services, tasks
from marketplace.models import Consult, LawyerProfile, Offer, VerificationDecision
from tests.concurrency import run_at_once
from tests.factories import LawyerProfileFactory, StaffFactory
from tests.marketplace.factories import ConsultFactory, OfferFactory

State = Consult.State
Verification = LawyerProfile.Verification


@pytest.fixture
def pushed(monkeypatch) -> list[tuple[list[int], dict]]:
    """Every frame published, with its users (Redis is not needed to see them)."""
    seen: list[tuple[list[int], dict]] = []
    monkeypatch.setattr(
        realtime, "push_many", lambda pushes: seen.extend((list(i), f) for i, f in pushes)
    )
    return seen


@pytest.fixture
def enqueued(monkeypatch) -> list[tuple[str, tuple]]:
    """Tasks sent after commit, by name and arguments (no worker runs them)."""
    seen: list[tuple[str, tuple]] = []
    # the lawyer's notice is a task too; a worker left running by another test must not get it
    monkeypatch.setattr(services, "_tell_lawyer_of", lambda decision, lawyer_id: None)
    for task in (tasks.match_consult, tasks.offers_withdraw_unverified):
        monkeypatch.setattr(
            task, "delay_on_commit", lambda *args, _name=task.name: seen.append((_name, args))
        )
    return seen


def quiet_after_commit(monkeypatch) -> None:
    """Threads commit for real: nothing they send after commit may reach a worker or Redis."""
    monkeypatch.setattr(tasks.match_consult, "delay_on_commit", lambda *a: None)
    monkeypatch.setattr(tasks.offers_withdraw_unverified, "delay_on_commit", lambda *a: None)
    monkeypatch.setattr(services, "_tell_lawyer_of", lambda decision, lawyer_id: None)
    monkeypatch.setattr(realtime, "push_many", lambda pushes: None)


def revoke(staff, profile: LawyerProfile, reason: str = "执业证已被吊销"):
    return services.lawyer_verify(
        staff=staff, lawyer_id=profile.user_id, approved=False, reason=reason
    )


@pytest.mark.django_db
def test_revoking_withdraws_live_offers_and_tells_the_lawyer_after_commit(
    staff, pushed, enqueued, django_capture_on_commit_callbacks
):
    # given a verified lawyer holding the only live offer of one consult
    profile = LawyerProfileFactory()
    offer = OfferFactory(lawyer=profile.user)
    # when staff revoke the approval
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        revoke(staff, profile)
        # then nothing is sent before commit
        assert pushed == []
    for callback in callbacks:
        callback()
    # the offer is revoked, and the lawyer's socket is told it was withdrawn
    offer.refresh_from_db()
    assert offer.state == Offer.State.REVOKED
    revoked = [f for ids, f in pushed if f["type"] == "offer.revoked"]
    assert revoked == [
        {
            "type": "offer.revoked",
            "offer": {"id": offer.pk, "consult": offer.consult_id},
            "reason": "withdrawn",
        }
    ]
    assert [ids for ids, f in pushed if f["type"] == "offer.revoked"] == [[profile.user_id]]


@pytest.mark.django_db
def test_revoking_takes_the_lawyer_out_of_lawyers_online_after_commit(
    staff, make_lawyer, pushed, enqueued, django_capture_on_commit_callbacks
):
    # given two lawyers online in Jinan
    revoked, _kept = make_lawyer(home="370100"), make_lawyer(home="370100")
    # when staff revoke one of them
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        revoke(staff, revoked)
        # then Redis is not touched before commit
        assert presence.online_counts(["370100"]) == {"370100": 2}
    for callback in callbacks:
        callback()
    # and after it the lawyer counts nowhere
    assert presence.online_counts(["370100", "370000", presence.NATION]) == {
        "370100": 1,
        "370000": 1,
        presence.NATION: 1,
    }
    assert presence.statuses([revoked.user_id]) == {revoked.user_id: "offline"}


@pytest.mark.django_db
def test_a_new_license_number_takes_the_lawyer_out_of_lawyers_online(
    make_lawyer, pushed, enqueued, django_capture_on_commit_callbacks
):
    profile = make_lawyer(home="370100")

    with django_capture_on_commit_callbacks(execute=True):
        services.lawyer_profile_update(lawyer=profile.user, license_number="137012018109999999")

    assert presence.lawyers_online() == 0


@pytest.mark.django_db
def test_a_consult_left_with_no_live_offer_is_queued_again_and_rematched(
    staff, pushed, enqueued, django_capture_on_commit_callbacks
):
    # given
    profile = LawyerProfileFactory()
    offer = OfferFactory(lawyer=profile.user)
    # when
    with django_capture_on_commit_callbacks(execute=True):
        revoke(staff, profile)
    # then the consult searches again in the same scope, as after a decline
    consult = Consult.objects.get(pk=offer.consult_id)
    assert consult.state == State.QUEUED
    assert consult.search_scope == "city"
    assert ("marketplace.match_consult", (consult.pk, consult.search_round)) in enqueued
    asker_frames = [f for ids, f in pushed if ids == [consult.asker_id]]
    assert asker_frames[-1]["consult"]["state"] == "queued"


@pytest.mark.django_db
def test_a_consult_with_other_live_offers_stays_offered_and_is_topped_up(
    staff, pushed, enqueued, django_capture_on_commit_callbacks
):
    # given a consult offered to the lawyer and to someone else
    profile = LawyerProfileFactory()
    offer = OfferFactory(lawyer=profile.user)
    other = OfferFactory(consult=offer.consult, lawyer=LawyerProfileFactory().user)
    # when
    with django_capture_on_commit_callbacks(execute=True):
        revoke(staff, profile)
    # then
    consult = Consult.objects.get(pk=offer.consult_id)
    assert consult.state == State.OFFERED
    assert Offer.objects.get(pk=other.pk).state == Offer.State.PENDING
    assert ("marketplace.match_consult", (consult.pk, None)) in enqueued
    search = [f for ids, f in pushed if ids == [consult.asker_id]][-1]["search"]
    assert search["offered"] == 1


@pytest.mark.django_db
def test_consults_already_in_progress_with_the_lawyer_go_on(staff, enqueued):
    # given an active consult the lawyer took before the revocation
    profile = LawyerProfileFactory()
    active = ConsultFactory(state=State.ACTIVE, lawyer=profile.user, accepted_at=timezone.now())
    accepted = OfferFactory(consult=active, lawyer=profile.user, state=Offer.State.ACCEPTED)
    # when
    revoke(staff, profile)
    # then it stays active with the lawyer, and its accepted offer is untouched
    active.refresh_from_db()
    assert (active.state, active.lawyer_id) == (State.ACTIVE, profile.user_id)
    assert Offer.objects.get(pk=accepted.pk).state == Offer.State.ACCEPTED


@pytest.mark.django_db
def test_a_revoked_lawyer_is_not_matched_again(staff, make_lawyer, matching_settings, enqueued):
    # given two lawyers online in the city, one of whom staff revoke
    revoked, kept = make_lawyer(), make_lawyer()
    revoke(staff, revoked)
    consult = ConsultFactory()
    # when a matching pass runs
    matching.match_consult(consult_id=consult.pk)
    # then only the lawyer still verified gets an offer
    assert set(Offer.objects.filter(consult=consult).values_list("lawyer_id", flat=True)) == {
        kept.user_id
    }


@pytest.mark.django_db
def test_an_offer_written_by_a_pass_that_raced_the_revocation_goes_in_the_second_sweep(
    staff, enqueued
):
    # given a revocation, which sends a second sweep after commit
    profile = LawyerProfileFactory()
    revoke(staff, profile)
    assert ("marketplace.offers.withdraw_unverified", (profile.user_id,)) in enqueued
    # and an offer a matching pass wrote from a read made just before the revocation
    late = OfferFactory(lawyer=profile.user)
    # when the sweep runs
    withdrawn = tasks.offers_withdraw_unverified.run(profile.user_id)
    # then that offer is gone too
    assert withdrawn == 1
    assert Offer.objects.get(pk=late.pk).state == Offer.State.REVOKED


@pytest.mark.django_db
def test_the_second_sweep_leaves_a_lawyer_verified_again_alone(staff, enqueued):
    profile = LawyerProfileFactory()
    revoke(staff, profile)
    services.lawyer_verify(staff=staff, lawyer_id=profile.user_id, approved=True)
    offer = OfferFactory(lawyer=profile.user)

    assert tasks.offers_withdraw_unverified.run(profile.user_id) == 0
    assert Offer.objects.get(pk=offer.pk).state == Offer.State.PENDING


@pytest.mark.django_db
def test_a_new_license_number_sends_the_lawyer_to_review_without_live_offers(enqueued):
    # given a verified lawyer with a live offer
    profile = LawyerProfileFactory()
    offer = OfferFactory(lawyer=profile.user)
    # when the lawyer submits another license number
    services.lawyer_profile_update(lawyer=profile.user, license_number="137012018109999999")
    # then the profile waits for review and the offer is withdrawn
    assert LawyerProfile.objects.get(pk=profile.pk).verification == Verification.PENDING
    assert Offer.objects.get(pk=offer.pk).state == Offer.State.REVOKED


@pytest.mark.django_db
def test_accepting_after_the_revocation_says_not_verified(api, staff, enqueued):
    profile = LawyerProfileFactory()
    offer = OfferFactory(lawyer=profile.user)
    revoke(staff, profile)

    response = api(profile.user).post(f"offers/{offer.pk}/accept")

    assert response.status_code == 403
    assert response.json()["code"] == "lawyer_not_verified"


@pytest.mark.django_db
def test_a_decision_on_a_status_that_changed_meanwhile_is_a_conflict(staff, enqueued):
    # given staff looking at a verified lawyer whom a colleague has just revoked
    profile = LawyerProfileFactory()
    revoke(StaffFactory(), profile)
    # when this one revokes too, from the page they saw
    with pytest.raises(errors.VerificationChanged):
        services.lawyer_verify(
            staff=staff, lawyer_id=profile.user_id, approved=False, reason="x", expected="verified"
        )
    # then nothing more is recorded
    assert VerificationDecision.objects.filter(profile=profile).count() == 1


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
@pytest.mark.parametrize("attempt", range(8))
def test_a_revocation_racing_an_accept_never_leaves_a_consult_with_a_lawyer_revoked_first(
    attempt, monkeypatch
):
    # given a verified lawyer with the live offer of a consult (tasks after commit not sent)
    quiet_after_commit(monkeypatch)
    staff = StaffFactory()
    profile = LawyerProfileFactory()
    offer = OfferFactory(lawyer=profile.user)
    # when staff revoke the approval while the lawyer accepts
    accepted, decided = run_at_once(
        [
            lambda: services.offer_accept(offer_id=offer.pk, lawyer=profile.user),
            lambda: revoke(staff, profile),
        ]
    )
    # then the revocation always happens; the profile lock orders the two
    assert isinstance(decided, VerificationDecision), decided
    consult = Consult.objects.get(pk=offer.consult_id)
    offer.refresh_from_db()
    if isinstance(accepted, Consult):
        # the accept came first: the consult goes on with the lawyer, approved at that time
        assert (consult.state, consult.lawyer_id) == (State.ACTIVE, profile.user_id)
        assert offer.state == Offer.State.ACCEPTED
        assert consult.accepted_at < decided.decided_at
    else:
        # the revocation came first: the accept is refused and the consult searches again
        assert isinstance(accepted, errors.LawyerNotVerified), accepted
        assert consult.lawyer_id is None
        assert consult.state == State.QUEUED
        assert offer.state == Offer.State.REVOKED
    assert not Consult.objects.filter(
        lawyer=profile.user, accepted_at__gt=decided.decided_at
    ).exists()


@pytest.mark.django_db
def test_staff_sockets_hear_each_change_of_the_queue(
    staff, pushed, enqueued, django_capture_on_commit_callbacks
):
    # given a second staff member, and a lawyer who submits a license number
    colleague = StaffFactory()
    profile = LawyerProfileFactory(verification=Verification.UNSUBMITTED, license_number="")
    LawyerProfileFactory(verification=Verification.PENDING)
    # when the lawyer submits, then staff approve
    with django_capture_on_commit_callbacks(execute=True):
        services.lawyer_profile_update(lawyer=profile.user, license_number="137012018101234567")
    with django_capture_on_commit_callbacks(execute=True):
        services.lawyer_verify(staff=staff, lawyer_id=profile.user_id, approved=True)
    # then every staff socket hears the lawyer join, then leave, with how many wait
    frames = [(sorted(ids), f) for ids, f in pushed if f["type"] == "verification.changed"]
    expected_ids = sorted([staff.pk, colleague.pk])
    assert frames == [
        (
            expected_ids,
            {
                "type": "verification.changed",
                "lawyer": profile.user_id,
                "verification": "pending",
                "waiting": 2,
            },
        ),
        (
            expected_ids,
            {
                "type": "verification.changed",
                "lawyer": profile.user_id,
                "verification": "verified",
                "waiting": 1,
            },
        ),
    ]


@pytest.mark.django_db
def test_an_expired_but_unswept_offer_of_the_lawyer_is_revoked_too(staff, enqueued):
    profile = LawyerProfileFactory()
    offer = OfferFactory(lawyer=profile.user, expires_at=timezone.now() - timedelta(seconds=5))

    revoke(staff, profile)

    assert Offer.objects.get(pk=offer.pk).state == Offer.State.REVOKED


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_an_accept_waiting_on_an_uncommitted_revocation_is_refused(monkeypatch):
    # given a revocation that holds the lawyer's profile lock, not yet committed
    import threading

    from django.db import connection, transaction

    quiet_after_commit(monkeypatch)
    staff = StaffFactory()
    profile = LawyerProfileFactory()
    offer = OfferFactory(lawyer=profile.user)
    locked, outcome = threading.Event(), {}

    def revoke_slowly():
        try:
            with transaction.atomic():
                revoke(staff, profile)
                locked.set()
                threading.Event().wait(0.5)  # the accept arrives meanwhile
        finally:
            connection.close()

    def accept():
        locked.wait(10)
        try:
            outcome["accept"] = services.offer_accept(offer_id=offer.pk, lawyer=profile.user)
        except Exception as exc:  # noqa: BLE001 - the outcome is what the test checks
            outcome["accept"] = exc
        finally:
            connection.close()

    threads = [threading.Thread(target=revoke_slowly), threading.Thread(target=accept)]
    # when the lawyer accepts while the revocation is in flight
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    # then the accept waited for the revocation and found the lawyer no longer verified
    assert isinstance(outcome["accept"], errors.LawyerNotVerified), outcome
    assert Consult.objects.get(pk=offer.consult_id).state == State.QUEUED
    assert Offer.objects.get(pk=offer.pk).state == Offer.State.REVOKED
