"""marketplace.consult_states: the only writer of Consult.state."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from marketplace import consult_states
from marketplace.errors import IllegalTransition
from marketplace.models import Consult, Offer
from tests.factories import LawyerFactory
from tests.marketplace.factories import ConsultFactory, OfferFactory, QuestionFactory

pytestmark = pytest.mark.django_db
State = Consult.State


def test_free_consult_opens_queued_with_its_sla_deadline(settings):
    # given
    settings.CONSULT_SLA_SECONDS = 600
    question = QuestionFactory()
    # when
    consult = consult_states.consult_open(
        question=question, asker=question.asker, paid=False, price=0, currency="CNY"
    )
    # then
    assert consult.state == State.QUEUED
    assert consult.queued_at is not None
    assert consult.sla_deadline == consult.queued_at + timedelta(seconds=600)
    assert consult.paid_at is None


def test_paid_consult_opens_waiting_for_payment_without_a_deadline():
    question = QuestionFactory()

    consult = consult_states.consult_open(
        question=question, asker=question.asker, paid=True, price=5000, currency="CNY"
    )

    assert consult.state == State.PENDING_PAYMENT
    assert consult.queued_at is None and consult.sla_deadline is None


def test_mark_paid_queues_and_starts_the_sla_clock(settings, django_capture_on_commit_callbacks):
    # given
    settings.CONSULT_SLA_SECONDS = 300
    consult = ConsultFactory(
        state=State.PENDING_PAYMENT, queued_at=None, scope_widened_at=None, sla_deadline=None
    )
    # when
    with django_capture_on_commit_callbacks() as callbacks:
        consult = consult_states.consult_mark_paid(consult_id=consult.pk)
    # then
    assert consult.state == State.QUEUED
    assert consult.paid_at == consult.queued_at
    assert consult.sla_deadline == consult.queued_at + timedelta(seconds=300)
    assert len(callbacks) == 3  # matching enqueued, arriving lawyers hinted, asker told


def test_mark_paid_twice_is_an_illegal_transition():
    consult = ConsultFactory(state=State.PENDING_PAYMENT)
    consult_states.consult_mark_paid(consult_id=consult.pk)

    with pytest.raises(IllegalTransition) as caught:
        consult_states.consult_mark_paid(consult_id=consult.pk)

    assert caught.value.code == "illegal_transition"
    assert "queued" in str(caught.value.detail)


def offer_to_a_lawyer(consult: Consult) -> list[Offer] | None:
    return consult_states.consult_offer(
        consult,
        ranked=[(LawyerFactory().pk, 1.0)],
        expires_at=timezone.now() + timedelta(minutes=1),
        offered=1,
    )


def test_offering_moves_to_offered_and_writes_the_offers_in_rank_order():
    consult = ConsultFactory()
    lawyers = [LawyerFactory().pk for _ in range(3)]

    offers = consult_states.consult_offer(
        consult,
        ranked=list(zip(lawyers, [3.0, 2.0, 1.0], strict=True)),
        expires_at=timezone.now() + timedelta(minutes=1),
        offered=3,
    )

    assert offers is not None
    assert [o.lawyer_id for o in offers] == lawyers
    stored = Consult.objects.get(pk=consult.pk)
    assert (stored.state, stored.search_round) == (State.OFFERED, 1)
    assert stored.first_offered_at is not None
    assert {(o.pk, o.lawyer_id, o.search_round, o.rank_score) for o in offers} == set(
        Offer.objects.filter(consult=consult).values_list(
            "pk", "lawyer_id", "search_round", "rank_score"
        )
    )


def test_offered_keeps_the_first_offer_time():
    consult = ConsultFactory()
    offer_to_a_lawyer(consult)
    first = Consult.objects.get(pk=consult.pk).first_offered_at
    consult = consult_states.consult_requeue(consult_id=consult.pk)

    offer_to_a_lawyer(consult)

    consult.refresh_from_db()
    assert consult.state == State.OFFERED
    assert consult.first_offered_at == first


def test_offering_nobody_is_refused_and_changes_nothing():
    consult = ConsultFactory()

    with pytest.raises(ValueError, match="offers nothing"):
        consult_states.consult_offer(
            consult, ranked=[], expires_at=timezone.now() + timedelta(minutes=1), offered=0
        )

    assert Consult.objects.get(pk=consult.pk).state == State.QUEUED


@pytest.mark.parametrize("change", ["round", "state"])
def test_offers_are_not_written_when_the_consult_moved_on_since_the_pass_read_it(change):
    # given a pass's copy of the consult, and the consult changed after it was read
    seen = ConsultFactory()
    if change == "round":
        Consult.objects.filter(pk=seen.pk).update(search_round=1)
    else:
        consult_states.consult_cancel(consult_id=seen.pk)
    # when
    offers = offer_to_a_lawyer(seen)
    # then
    assert offers is None
    assert not Offer.objects.filter(consult=seen).exists()
    assert Consult.objects.get(pk=seen.pk).state == (
        State.QUEUED if change == "round" else State.CANCELED
    )


def test_requeue_can_widen_the_search():
    consult = ConsultFactory(state=State.OFFERED)

    consult = consult_states.consult_requeue(consult_id=consult.pk, widen_to="province")

    assert (consult.state, consult.search_scope) == (State.QUEUED, "province")


def test_activate_records_the_lawyer_and_time(lawyer):
    consult = ConsultFactory(state=State.OFFERED)

    consult = consult_states.consult_activate(consult_id=consult.pk, lawyer_id=lawyer.pk)

    assert (consult.state, consult.lawyer_id) == (State.ACTIVE, lawyer.pk)
    assert consult.accepted_at is not None


def test_first_reply_is_stamped_once():
    consult = ConsultFactory(state=State.ACTIVE)
    first = consult_states.consult_record_first_reply(consult_id=consult.pk).first_reply_at

    again = consult_states.consult_record_first_reply(consult_id=consult.pk).first_reply_at

    assert first is not None and again == first


def test_resolve_closes_an_active_consult():
    consult = ConsultFactory(state=State.ACTIVE)

    consult = consult_states.consult_resolve(consult_id=consult.pk)

    assert consult.state == State.RESOLVED and consult.closed_at is not None


def test_cancel_withdraws_live_offers():
    offer = OfferFactory()

    consult = consult_states.consult_cancel(consult_id=offer.consult_id)

    assert consult.state == State.CANCELED
    offer.refresh_from_db()
    assert offer.state == Offer.State.REVOKED


def test_expire_an_unanswered_consult():
    offer = OfferFactory()

    consult = consult_states.consult_expire(consult_id=offer.consult_id)

    assert consult.state == State.EXPIRED and consult.expired_at is not None
    offer.refresh_from_db()
    assert offer.state == Offer.State.REVOKED


def test_an_answered_consult_cannot_expire():
    consult = ConsultFactory(state=State.ACTIVE, first_reply_at=timezone.now())

    with pytest.raises(IllegalTransition):
        consult_states.consult_expire(consult_id=consult.pk)

    consult.refresh_from_db()
    assert consult.state == State.ACTIVE


def test_refund_only_after_an_answer():
    answered = ConsultFactory(state=State.RESOLVED, first_reply_at=timezone.now())
    unanswered = ConsultFactory(state=State.RESOLVED)

    assert consult_states.consult_mark_refunded(consult_id=answered.pk).state == State.REFUNDED
    with pytest.raises(IllegalTransition):
        consult_states.consult_mark_refunded(consult_id=unanswered.pk)


@pytest.mark.parametrize(
    ("source", "transition"),
    [
        (State.QUEUED, "consult_resolve"),
        (State.QUEUED, "consult_activate"),
        (State.PENDING_PAYMENT, "consult_offer"),
        (State.ACTIVE, "consult_cancel"),
        (State.ACTIVE, "consult_offer"),
        (State.RESOLVED, "consult_expire"),
        (State.EXPIRED, "consult_mark_paid"),
        (State.CANCELED, "consult_requeue"),
        (State.QUEUED, "consult_requeue"),
        (State.QUEUED, "consult_mark_refunded"),
        (State.RESOLVED, "consult_record_first_reply"),
    ],
)
def test_illegal_transitions_raise_and_change_nothing(source, transition, lawyer):
    # given
    consult = ConsultFactory(state=source)
    kwargs: dict = {"consult_id": consult.pk}
    if transition == "consult_activate":
        kwargs["lawyer_id"] = lawyer.pk
    call = getattr(consult_states, transition)
    if transition == "consult_offer":
        call, kwargs = offer_to_a_lawyer, {"consult": consult}
    # when
    with pytest.raises(IllegalTransition):
        call(**kwargs)
    # then
    consult.refresh_from_db()
    assert consult.state == source


def test_every_state_is_reachable_or_initial():
    reachable = set(consult_states.ALLOWED_SOURCES)
    initial = {State.PENDING_PAYMENT, State.QUEUED}
    assert reachable | initial == set(State.values)
