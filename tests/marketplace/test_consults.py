"""Consults over the API: POST /consults, GET /consults/{id}, POST /consults/{id}/close."""

from __future__ import annotations

import pytest

from billing.models import Payment
from marketplace import consult_states, errors, services
from marketplace.models import Consult, Offer
from tests.concurrency import run_at_once
from tests.factories import LawyerProfileFactory
from tests.marketplace.factories import ConsultFactory, OfferFactory, QuestionFactory

pytestmark = pytest.mark.django_db
State = Consult.State


@pytest.fixture
def question(asker):
    return QuestionFactory(asker=asker)


def test_free_consult_is_queued_at_once(api, asker, question, django_capture_on_commit_callbacks):
    # when
    with django_capture_on_commit_callbacks() as callbacks:
        response = api(asker).post("consults", {"question": question.pk})
    # then
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["state"] == "queued"
    assert body["paid"] is False and body["price"] == 0
    assert body["search"] == {"scope": "city", "offered": 0, "round": 0}
    assert body["sla_deadline"] is not None
    assert body["question"]["id"] == question.pk
    assert len(callbacks) >= 1  # the matching task goes out after commit


def test_paid_consult_waits_for_payment(api, asker, question):
    response = api(asker).post(
        "consults", {"question": question.pk, "paid": True, "price": 4900, "currency": "CNY"}
    )

    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["state"] == "pending_payment"
    assert (body["paid"], body["price"], body["currency"]) == (True, 4900, "CNY")
    assert body["search"] is None
    assert "payment" in body


def test_consult_may_name_a_verified_lawyer(api, asker, question):
    profile = LawyerProfileFactory()

    response = api(asker).post("consults", {"question": question.pk, "lawyer": profile.user_id})

    assert response.status_code == 201
    assert response.json()["requested_lawyer"] == profile.user_id


@pytest.mark.parametrize(
    ("payload", "status", "code"),
    [
        ({"paid": True}, 422, "invalid_price"),
        ({"paid": True, "price": -100}, 422, "invalid_price"),
        ({"paid": False, "price": 500}, 422, "invalid_price"),
        ({"paid": True, "price": 500, "currency": "RMB1"}, 422, "invalid_currency"),
        ({"paid": True, "price": 12.5}, 422, "invalid"),
        ({"lawyer": 987654}, 422, "unknown_lawyer"),
        ({"question": "abc"}, 422, "invalid"),
        ({"question": 987654}, 404, "not_found"),
    ],
)
def test_bad_consult_input_gets_its_code(api, asker, question, payload, status, code):
    response = api(asker).post("consults", {"question": question.pk, **payload})

    assert response.status_code == status, response.json()
    assert response.json()["code"] == code
    assert not Consult.objects.exists()


@pytest.mark.parametrize("verification", ["pending", "rejected", "unsubmitted"])
def test_naming_an_unverified_lawyer_is_refused(api, asker, question, verification):
    profile = LawyerProfileFactory(verification=verification)

    response = api(asker).post("consults", {"question": question.pk, "lawyer": profile.user_id})

    assert response.status_code == 422
    assert response.json()["code"] == "unknown_lawyer"


def test_naming_an_asker_as_lawyer_is_refused(api, asker, other_asker, question):
    response = api(asker).post("consults", {"question": question.pk, "lawyer": other_asker.pk})

    assert response.json()["code"] == "unknown_lawyer"


def test_someone_elses_question_is_404(api, other_asker, question):
    response = api(other_asker).post("consults", {"question": question.pk})

    assert response.status_code == 404


def test_lawyer_cannot_open_a_consult(api, lawyer, question):
    response = api(lawyer).post("consults", {"question": question.pk})

    assert response.status_code == 403
    assert response.json()["code"] == "lawyers_cannot_ask"


def test_one_open_consult_per_question(api, asker, question):
    assert api(asker).post("consults", {"question": question.pk}).status_code == 201

    response = api(asker).post("consults", {"question": question.pk})

    assert response.status_code == 409
    assert response.json()["code"] == "consult_already_open"
    assert Consult.objects.count() == 1


def test_the_one_open_consult_index_covers_exactly_the_open_states():
    (constraint,) = [c for c in Consult._meta.constraints if c.name.startswith("consult_one_open")]
    ((lookup, states),) = constraint.condition.children
    assert lookup == "state__in"
    assert set(states) == consult_states.OPEN_STATES


def test_an_open_consult_written_after_the_check_still_blocks_a_second_one(asker, question):
    # the state a double submit reaches when both requests pass the read before either writes
    ConsultFactory(question=question, state=State.OFFERED)

    with pytest.raises(errors.ConsultAlreadyOpen):
        consult_states.consult_open(
            question=question, asker=asker, paid=False, price=0, currency="CNY"
        )

    assert Consult.objects.filter(question=question).count() == 1


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
@pytest.mark.parametrize("paid", [False, True], ids=["free", "paid"])
def test_a_consult_submitted_twenty_times_at_once_opens_once(asker, paid, monkeypatch):
    # given no matching task sent out (a session's live worker would run it against the
    # database while this test's teardown truncates the tables)
    monkeypatch.setattr(consult_states, "_enqueue_matching", lambda consult: None)
    question = QuestionFactory(asker=asker)
    price = 4900 if paid else 0
    # when
    results = run_at_once(
        [
            lambda: services.consult_create(
                asker=asker, question_id=question.pk, paid=paid, price=price
            )
        ]
        * 20
    )
    # then
    opened = [r for r in results if isinstance(r, Consult)]
    refused = [r for r in results if not isinstance(r, Consult)]
    assert len(opened) == 1
    assert all(isinstance(r, errors.ConsultAlreadyOpen) for r in refused), refused
    assert list(Consult.objects.filter(question=question).values_list("pk", flat=True)) == [
        opened[0].pk
    ]
    assert Payment.objects.filter(consult__question=question).count() == (1 if paid else 0)


def test_a_new_consult_after_the_last_one_ended(api, asker, question):
    ConsultFactory(question=question, state=State.EXPIRED)

    assert api(asker).post("consults", {"question": question.pk}).status_code == 201


def test_closed_question_cannot_get_a_consult(api, asker):
    question = QuestionFactory(asker=asker, status="hidden")

    response = api(asker).post("consults", {"question": question.pk})

    assert response.status_code == 409
    assert response.json()["code"] == "question_closed"


def test_participants_see_the_consult_and_nobody_else(api, asker, other_asker, other_lawyer, staff):
    # given
    profile = LawyerProfileFactory()
    consult = ConsultFactory(
        question=QuestionFactory(asker=asker), state=State.ACTIVE, lawyer=profile.user
    )
    offered = OfferFactory(consult=consult, state=Offer.State.REVOKED).lawyer
    path = f"consults/{consult.pk}"
    # then
    for participant in (asker, profile.user):
        response = api(participant).get(path)
        assert response.status_code == 200
        assert response.json()["lawyer"] == profile.user_id
        assert response.json()["lawyer_name"] == profile.user.display_name
    for outsider in (other_asker, other_lawyer, offered, staff):
        response = api(outsider).get(path)
        assert response.status_code == 404
        assert response.json()["code"] == "not_found"
    assert api(None).get(path).status_code == 401


def test_consult_list_is_the_users_own(api, asker, other_asker, django_assert_num_queries):
    mine = [ConsultFactory(question=QuestionFactory(asker=asker)) for _ in range(3)]
    ConsultFactory(question=QuestionFactory(asker=other_asker))
    client = api(asker)

    with django_assert_num_queries(4):  # token, its last use, count, page
        items = client.get("consults").json()["items"]

    assert {c["id"] for c in items} == {c.pk for c in mine}


def test_asker_cancels_a_consult_still_looking(api, asker):
    # given
    offer = OfferFactory(consult=ConsultFactory(question=QuestionFactory(asker=asker)))
    offer.consult.state = State.OFFERED
    offer.consult.save()
    # when
    response = api(asker).post(f"consults/{offer.consult_id}/close")
    # then
    assert response.status_code == 200
    assert response.json()["state"] == "canceled"
    offer.refresh_from_db()
    assert offer.state == Offer.State.REVOKED


@pytest.mark.parametrize("closer", ["asker", "lawyer"])
def test_either_participant_resolves_an_active_consult(api, asker, closer):
    profile = LawyerProfileFactory()
    consult = ConsultFactory(
        question=QuestionFactory(asker=asker), state=State.ACTIVE, lawyer=profile.user
    )
    user = asker if closer == "asker" else profile.user

    response = api(user).post(f"consults/{consult.pk}/close")

    assert response.json()["state"] == "resolved"
    assert response.json()["closed_at"] is not None


def test_closing_twice_is_a_conflict(api, asker):
    consult = ConsultFactory(question=QuestionFactory(asker=asker), state=State.RESOLVED)

    response = api(asker).post(f"consults/{consult.pk}/close")

    assert response.status_code == 409
    assert response.json()["code"] == "illegal_transition"


def test_outsider_cannot_close(api, other_asker, asker):
    consult = ConsultFactory(question=QuestionFactory(asker=asker))

    response = api(other_asker).post(f"consults/{consult.pk}/close")

    assert response.status_code == 404
    consult.refresh_from_db()
    assert consult.state == State.QUEUED
