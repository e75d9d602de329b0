"""The lawyer's queue in fixed SQL gives what the ORM query it replaced gave."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from marketplace.models import Consult, Offer
from marketplace.selectors import lawyer_live_offers
from marketplace.socket_frames import offer_payload
from tests.factories import LawyerFactory, category, city
from tests.marketplace.factories import ConsultFactory, OfferFactory, QuestionFactory

pytestmark = pytest.mark.django_db


def queue_by_orm(lawyer_id: int) -> list[Offer]:
    return list(
        Offer.objects.filter(
            lawyer_id=lawyer_id, state=Offer.State.PENDING, expires_at__gt=timezone.now()
        )
        .select_related("consult__question__category", "consult__question__city")
        .order_by("created_at", "pk")
    )


def test_the_queue_is_the_live_offers_the_orm_read_oldest_first():
    # given: a lawyer's live offers on a free and a paid consult, and offers that must not show
    lawyer, other = LawyerFactory(), LawyerFactory()
    paid = ConsultFactory(
        question=QuestionFactory(category=category("family"), city=city("370200")),
        state=Consult.State.OFFERED,
        price=5000,
    )
    newer = OfferFactory(lawyer=lawyer, consult=paid)
    older = OfferFactory(lawyer=lawyer)
    Offer.objects.filter(pk=older.pk).update(created_at=newer.created_at - timedelta(seconds=5))
    OfferFactory(lawyer=lawyer, expires_at=timezone.now() - timedelta(seconds=1))
    OfferFactory(lawyer=lawyer, state=Offer.State.DECLINED)
    OfferFactory(lawyer=other)
    # when
    queue = lawyer_live_offers(lawyer_id=lawyer.pk)
    # then
    expected = queue_by_orm(lawyer.pk)
    assert [o.pk for o in queue] == [older.pk, newer.pk]
    assert [offer_payload(o) for o in queue] == [offer_payload(o) for o in expected]
    assert [(o.state, o.created_at, o.consult.state) for o in queue] == [
        (o.state, o.created_at, o.consult.state) for o in expected
    ]
    assert offer_payload(queue[1])["summary"]["city_name"] == city("370200").name
