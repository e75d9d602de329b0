from __future__ import annotations

import pytest
from django.core.management import call_command
from django.utils import timezone

from billing.ledger import ledger_reconcile
from billing.models import LedgerEntry, Payment
from billing.services import (
    payment_capture_on_first_reply,
    payment_refund,
    payment_sandbox_authorize,
    payment_settle,
)
from marketplace.models import Consult
from tests.billing.factories import make_active, paid_consult


@pytest.fixture
def captured(asker, sandbox_on) -> Payment:
    consult, payment = paid_consult(asker=asker, price=12345)
    payment_sandbox_authorize(payment_id=payment.pk, user=asker)
    consult = make_active(Consult.objects.get(pk=consult.pk))
    Consult.objects.filter(pk=consult.pk).update(first_reply_at=timezone.now())
    payment_capture_on_first_reply(consult=consult)
    return payment_settle(payment_id=payment.pk)


def test_capture_writes_fee_and_earning_that_add_up_to_the_amount(captured, settings):
    # then
    entries = {e.kind: e for e in captured.ledger_entries.all()}
    assert entries["platform_fee"].amount == 2469  # 20% of 12345, half up
    assert entries["lawyer_earning"].amount == 9876
    assert sum(e.amount for e in entries.values()) == captured.amount
    assert all(type(e.amount) is int for e in entries.values())


def test_ledger_reconciles_after_captures_and_refunds(captured, staff):
    # given
    assert ledger_reconcile().ok
    # when
    payment_refund(payment_id=captured.pk, staff=staff)
    # then
    report = ledger_reconcile()
    assert report.ok, report.problems
    assert report.totals["CNY"] == {
        "captured": 12345,
        "refunded": 12345,
        "ledger_in": 12345,
        "ledger_out": -12345,
    }


def test_reconcile_finds_an_entry_that_does_not_match_its_payment(captured):
    LedgerEntry.objects.filter(payment=captured, kind="platform_fee").update(amount=2000)
    report = ledger_reconcile()
    assert not report.ok
    assert any(f"payment {captured.pk}" in p for p in report.problems)


def test_reconcile_finds_a_captured_payment_without_entries(captured):
    LedgerEntry.objects.filter(payment=captured).delete()
    assert not ledger_reconcile().ok


def test_reconcile_command_exits_non_zero_on_mismatch(captured, capsys):
    call_command("billing_reconcile")
    assert "ok: 1 payments reconcile" in capsys.readouterr().out
    LedgerEntry.objects.filter(payment=captured, kind="lawyer_earning").update(amount=1)
    with pytest.raises(SystemExit) as exited:
        call_command("billing_reconcile")
    assert exited.value.code == 1
