"""Accepting and declining offers (services + POST /offers/{id}/accept|decline) and the lawyer's
queue (GET /lawyer/queue). Concurrency runs on real PostgreSQL connections, one per thread."""

from __future__ import annotations

from collections import Counter
from datetime import timedelta

import pytest
from django.utils import timezone

from marketplace import consult_states, errors, services
from marketplace.models import Consult, Offer
from messaging.models import Participant
from tests.concurrency import run_at_once
from tests.factories import LawyerProfileFactory
from tests.marketplace.factories import ConsultFactory, OfferFactory

State = Consult.State


def offered_consult(**fields) -> Consult:
    return ConsultFactory(state=State.OFFERED, **fields)


def offer_to(consult: Consult, profile=None, **fields) -> Offer:
    profile = profile or LawyerProfileFactory()
    return OfferFactory(consult=consult, lawyer=profile.user, **fields)


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_fifty_concurrent_accepts_of_one_consult_have_exactly_one_winner():
    # given
    consult = offered_consult()
    offers = [offer_to(consult) for _ in range(50)]
    # when
    results = run_at_once(
        [(lambda o=o: services.offer_accept(offer_id=o.pk, lawyer=o.lawyer)) for o in offers]
    )
    # then
    winners = [r for r in results if isinstance(r, Consult)]
    losers = [r for r in results if not isinstance(r, Consult)]
    assert len(winners) == 1
    assert Counter(type(r) for r in losers) == Counter({errors.OfferTaken: 49})
    consult.refresh_from_db()
    assert consult.state == State.ACTIVE
    assert consult.lawyer_id == winners[0].lawyer_id
    assert Counter(Offer.objects.filter(consult=consult).values_list("state", flat=True)) == {
        "accepted": 1,
        "revoked": 49,
    }
    assert consult.conversation_id is not None
    assert set(
        Participant.objects.filter(conversation_id=consult.conversation_id).values_list(
            "user_id", flat=True
        )
    ) == {consult.asker_id, consult.lawyer_id}


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_the_same_offer_accepted_fifty_times_at_once_activates_once():
    consult = offered_consult()
    offer = offer_to(consult)

    results = run_at_once(
        [lambda: services.offer_accept(offer_id=offer.pk, lawyer=offer.lawyer)] * 50
    )

    assert all(isinstance(r, Consult) for r in results), results
    assert Consult.objects.get(pk=consult.pk).state == State.ACTIVE
    assert Offer.objects.get(pk=offer.pk).state == Offer.State.ACCEPTED


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_a_lawyer_accepting_more_offers_than_capacity_at_once_stops_at_capacity():
    # given
    profile = LawyerProfileFactory(capacity=2)
    offers = [offer_to(offered_consult(), profile) for _ in range(6)]
    # when
    results = run_at_once(
        [(lambda o=o: services.offer_accept(offer_id=o.pk, lawyer=profile.user)) for o in offers]
    )
    # then
    assert sum(isinstance(r, Consult) for r in results) == 2
    assert Counter(type(r) for r in results if not isinstance(r, Consult)) == Counter(
        {errors.OverCapacity: 4}
    )
    assert Consult.objects.filter(lawyer=profile.user, state=State.ACTIVE).count() == 2
    assert Consult.objects.filter(state=State.OFFERED).count() == 4


@pytest.mark.django_db
def test_accept_over_the_api_and_the_loser_gets_offer_taken(api):
    # given
    consult = offered_consult()
    first, second = offer_to(consult), offer_to(consult)
    # when
    won = api(first.lawyer).post(f"offers/{first.pk}/accept")
    lost = api(second.lawyer).post(f"offers/{second.pk}/accept")
    # then
    assert won.status_code == 200, won.json()
    assert won.json()["state"] == "active"
    assert won.json()["lawyer"] == first.lawyer_id
    assert won.json()["conversation"] is not None
    assert lost.status_code == 409
    assert lost.json()["code"] == "offer_taken"


@pytest.mark.django_db
def test_accepting_an_expired_offer_is_refused(api):
    offer = offer_to(offered_consult(), expires_at=timezone.now() - timedelta(seconds=1))

    response = api(offer.lawyer).post(f"offers/{offer.pk}/accept")

    assert response.status_code == 409
    assert response.json()["code"] == "offer_expired"


@pytest.mark.django_db
def test_accepting_after_the_asker_canceled_is_refused(api):
    offer = offer_to(offered_consult())
    consult_states.consult_cancel(consult_id=offer.consult_id)

    response = api(offer.lawyer).post(f"offers/{offer.pk}/accept")

    assert response.status_code == 409
    assert response.json()["code"] == "offer_withdrawn"


@pytest.mark.django_db
def test_accepting_a_declined_offer_is_refused(api):
    offer = offer_to(offered_consult(), state=Offer.State.DECLINED)

    response = api(offer.lawyer).post(f"offers/{offer.pk}/accept")

    assert response.json()["code"] == "offer_declined"


@pytest.mark.django_db
def test_a_lawyer_no_longer_verified_cannot_accept(api):
    offer = offer_to(offered_consult(), LawyerProfileFactory(verification="rejected"))

    response = api(offer.lawyer).post(f"offers/{offer.pk}/accept")

    assert response.status_code == 403
    assert response.json()["code"] == "lawyer_not_verified"


@pytest.mark.django_db
def test_someone_elses_offer_is_404(api, other_lawyer):
    offer = offer_to(offered_consult())
    LawyerProfileFactory(user=other_lawyer)

    for action in ("accept", "decline"):
        response = api(other_lawyer).post(f"offers/{offer.pk}/{action}")
        assert response.status_code == 404
    assert Offer.objects.get(pk=offer.pk).state == Offer.State.PENDING


@pytest.mark.django_db
def test_askers_cannot_accept_offers(api, asker):
    offer = offer_to(offered_consult())

    response = api(asker).post(f"offers/{offer.pk}/accept")

    assert response.status_code == 403
    assert response.json()["code"] == "wrong_role"


@pytest.mark.django_db
def test_accepting_again_returns_the_same_consult(api):
    offer = offer_to(offered_consult())
    api(offer.lawyer).post(f"offers/{offer.pk}/accept")

    response = api(offer.lawyer).post(f"offers/{offer.pk}/accept")

    assert response.status_code == 200
    assert response.json()["state"] == "active"


@pytest.mark.django_db
def test_decline_over_the_api(api):
    offer = offer_to(offered_consult())

    response = api(offer.lawyer).post(f"offers/{offer.pk}/decline")

    assert response.status_code == 200
    assert response.json() == {"id": offer.pk, "consult": offer.consult_id, "state": "declined"}
    assert api(offer.lawyer).post(f"offers/{offer.pk}/decline").status_code == 200


@pytest.mark.django_db
def test_declining_an_accepted_offer_is_a_conflict(api):
    offer = offer_to(offered_consult())
    api(offer.lawyer).post(f"offers/{offer.pk}/accept")

    response = api(offer.lawyer).post(f"offers/{offer.pk}/decline")

    assert response.status_code == 409
    assert response.json()["code"] == "offer_accepted"


@pytest.mark.django_db
def test_queue_lists_live_offers_oldest_first(api, django_assert_num_queries):
    # given
    profile = LawyerProfileFactory()
    older = offer_to(offered_consult(), profile)
    newer = offer_to(offered_consult(price=8800, is_paid=True), profile)
    offer_to(offered_consult(), profile, expires_at=timezone.now() - timedelta(seconds=1))
    offer_to(offered_consult(), profile, state=Offer.State.REVOKED)
    offer_to(offered_consult())  # someone else's
    Offer.objects.filter(pk=older.pk).update(created_at=timezone.now() - timedelta(seconds=20))
    client = api(profile.user)
    # when
    with django_assert_num_queries(3):  # token, its last use, the queue
        response = client.get("lawyer/queue")
    # then
    assert response.status_code == 200
    body = response.json()
    assert [o["id"] for o in body] == [older.pk, newer.pk]
    assert body[1]["summary"]["price"] == 8800
    assert body[1]["summary"]["title"] == newer.consult.question.title
    assert body[1]["summary"]["city"] == "370100"
    assert body[1]["summary"]["category"] == "debt"
    assert body[0]["expires_at"]


@pytest.mark.django_db
def test_askers_have_no_queue(api, asker):
    assert api(asker).get("lawyer/queue").status_code == 403
