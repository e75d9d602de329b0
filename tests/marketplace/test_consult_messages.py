"""marketplace.consult_messages.consult_message_gate, driven through messaging's real send."""

from __future__ import annotations

import pytest

from marketplace import consult_states, services
from marketplace.consult_messages import ConsultClosed, ConsultExpired
from marketplace.models import Consult
from messaging.services import message_send
from tests.factories import LawyerProfileFactory
from tests.marketplace.factories import ConsultFactory, OfferFactory

pytestmark = pytest.mark.django_db
State = Consult.State


@pytest.fixture
def active_consult() -> Consult:
    profile = LawyerProfileFactory()
    offer = OfferFactory(consult=ConsultFactory(state=State.OFFERED), lawyer=profile.user)
    return services.offer_accept(offer_id=offer.pk, lawyer=profile.user)


def test_the_lawyers_first_reply_is_stamped(active_consult):
    # when
    message_send(
        sender=active_consult.lawyer,
        conversation_id=active_consult.conversation_id,
        client_id="l-1",
        body="您好，请详细说说借款经过。",
    )
    # then
    active_consult.refresh_from_db()
    assert active_consult.first_reply_at is not None
    assert active_consult.state == State.ACTIVE


def test_the_askers_messages_do_not_count_as_a_reply(active_consult):
    message_send(
        sender=active_consult.asker,
        conversation_id=active_consult.conversation_id,
        client_id="a-1",
        body="律师您好",
    )

    active_consult.refresh_from_db()
    assert active_consult.first_reply_at is None


def test_later_replies_keep_the_first_reply_time(active_consult):
    for n in range(2):
        message_send(
            sender=active_consult.lawyer,
            conversation_id=active_consult.conversation_id,
            client_id=f"l-{n}",
            body="回复",
        )
        active_consult.refresh_from_db()
        if n == 0:
            first = active_consult.first_reply_at

    assert active_consult.first_reply_at == first


def test_a_lawyer_message_into_an_expired_consult_is_refused(active_consult):
    consult_states.consult_expire(consult_id=active_consult.pk)

    with pytest.raises(ConsultExpired) as caught:
        message_send(
            sender=active_consult.lawyer,
            conversation_id=active_consult.conversation_id,
            client_id="late",
            body="抱歉来晚了",
        )

    assert caught.value.code == "consult_expired"
    active_consult.refresh_from_db()
    assert active_consult.first_reply_at is None


def test_messages_into_a_resolved_consult_are_refused(active_consult):
    consult_states.consult_resolve(consult_id=active_consult.pk)

    with pytest.raises(ConsultClosed):
        message_send(
            sender=active_consult.asker,
            conversation_id=active_consult.conversation_id,
            client_id="after",
            body="还有一个问题",
        )
