from __future__ import annotations

import io

from django.core.management import call_command

from billing.demo import DEMO_REFERENCE
from billing.ledger import ledger_reconcile
from billing.models import LedgerEntry, Payment, Rating
from marketplace.models import Consult, LawyerProfile, Region


def test_seed_demo_gives_prices_and_a_reconciled_past_and_is_idempotent(db):
    # when
    call_command("seed_demo", stdout=io.StringIO())
    counts = (Payment.objects.count(), LedgerEntry.objects.count(), Rating.objects.count())
    call_command("seed_demo", stdout=io.StringIO())
    # then
    assert counts == (
        Payment.objects.count(),
        LedgerEntry.objects.count(),
        Rating.objects.count(),
    )
    assert Payment.objects.filter(state="captured").exists()
    assert Consult.objects.filter(state="expired").exists()
    assert LawyerProfile.objects.filter(price__gt=0).count() > 200
    # a newcomer's first free consult finds a lawyer: lawyer001 in Jinan, one in every city
    free = LawyerProfile.objects.filter(price=0)
    assert free.filter(user__username="lawyer001").exists()
    shandong = Region.objects.filter(parent_id="370000").values_list("code", flat=True)
    assert set(free.values_list("home_city_id", flat=True)) >= set(shandong)
    assert LawyerProfile.objects.filter(response_p50_seconds__isnull=False).exists()
    assert ledger_reconcile().ok
    # every past consult billing seeded was answered before its deadline, or expired
    seeded = Consult.objects.filter(payment__gateway_reference__startswith=DEMO_REFERENCE)
    assert seeded.count() > 400
    for consult in seeded.filter(first_reply_at__isnull=False):
        assert consult.first_reply_at < consult.sla_deadline
    assert not seeded.filter(state="expired", payment__state="captured").exists()
