"""The ledger: what each captured payment owes the platform and the lawyer, and its reversal
on refund. Entries are written in the transaction that moves the payment's state, so the
ledger and the payments cannot disagree unless someone edits one of them by hand, which
`ledger_reconcile` (and `manage.py billing_reconcile`) would then report."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

from django.db.models import Count, Q, Sum

from billing.models import LedgerEntry, Payment
from billing.prices import fee_split


def ledger_record_capture(*, payment: Payment) -> list[LedgerEntry]:
    """Precondition: the payment row is locked and has just become `captured`."""
    lawyer_id = payment.consult.lawyer_id
    if lawyer_id is None:
        raise ValueError(f"payment {payment.pk} captured for a consult without a lawyer")
    fee, earning = fee_split(payment.amount, payment.platform_fee_bp)
    return LedgerEntry.objects.bulk_create(
        [
            LedgerEntry(
                payment=payment,
                consult_id=payment.consult_id,
                kind=LedgerEntry.Kind.PLATFORM_FEE,
                amount=fee,
                currency=payment.currency,
            ),
            LedgerEntry(
                payment=payment,
                consult_id=payment.consult_id,
                lawyer_id=lawyer_id,
                kind=LedgerEntry.Kind.LAWYER_EARNING,
                amount=earning,
                currency=payment.currency,
            ),
        ]
    )


def ledger_record_refund(*, payment: Payment) -> list[LedgerEntry]:
    """Precondition: the payment row is locked and has just become `refunded`."""
    originals = LedgerEntry.objects.filter(payment=payment, is_reversal=False)
    return LedgerEntry.objects.bulk_create(
        [
            LedgerEntry(
                payment=payment,
                consult_id=entry.consult_id,
                lawyer_id=entry.lawyer_id,
                kind=entry.kind,
                is_reversal=True,
                amount=-entry.amount,
                currency=entry.currency,
            )
            for entry in originals
        ]
    )


@dataclass(frozen=True)
class ReconcileReport:
    payments_checked: int
    problems: list[str]
    totals: dict[str, dict[str, int]]

    @property
    def ok(self) -> bool:
        return not self.problems


def ledger_reconcile() -> ReconcileReport:
    """Check every payment against its ledger entries, and the totals per currency."""
    problems: list[str] = []
    per_payment = (
        LedgerEntry.objects.values("payment_id", "kind", "is_reversal")
        .annotate(total=Sum("amount"), n=Count("id"))
        .order_by()
    )
    entries: dict[int, dict[tuple[str, bool], int]] = defaultdict(dict)
    for row in per_payment:
        entries[row["payment_id"]][(row["kind"], row["is_reversal"])] = row["total"]
        if row["n"] != 1:
            problems.append(f"payment {row['payment_id']}: {row['n']} {row['kind']} entries")

    fee, earning = LedgerEntry.Kind.PLATFORM_FEE, LedgerEntry.Kind.LAWYER_EARNING
    checked = 0
    payments = Payment.objects.filter(
        Q(state__in=[Payment.State.CAPTURED, Payment.State.REFUNDED]) | Q(pk__in=list(entries))
    ).values_list("pk", "state", "amount", "currency", "platform_fee_bp")
    for pk, state, amount, _currency, fee_bp in payments.iterator():
        checked += 1
        got = entries.get(pk, {})
        expected: dict[tuple[str, bool], int] = {}
        if state in (Payment.State.CAPTURED, Payment.State.REFUNDED):
            expected_fee, expected_earning = fee_split(amount, fee_bp)
            expected = {(fee, False): expected_fee, (earning, False): expected_earning}
        if state == Payment.State.REFUNDED:
            expected |= {(fee, True): -expected_fee, (earning, True): -expected_earning}
        if got != expected:
            problems.append(f"payment {pk} ({state}, {amount}): ledger {got} != {expected}")

    captured = (
        Payment.objects.filter(state__in=[Payment.State.CAPTURED, Payment.State.REFUNDED])
        .values("currency")
        .annotate(total=Sum("amount"))
        .order_by()
    )
    refunded = (
        Payment.objects.filter(state=Payment.State.REFUNDED)
        .values("currency")
        .annotate(total=Sum("amount"))
        .order_by()
    )
    ledger = (
        LedgerEntry.objects.values("currency", "is_reversal")
        .annotate(total=Sum("amount"))
        .order_by()
    )
    totals: dict[str, dict[str, int]] = defaultdict(
        lambda: {"captured": 0, "refunded": 0, "ledger_in": 0, "ledger_out": 0}
    )
    for paid in captured:
        totals[paid["currency"]]["captured"] = paid["total"]
    for back in refunded:
        totals[back["currency"]]["refunded"] = back["total"]
    for entry in ledger:
        side = "ledger_out" if entry["is_reversal"] else "ledger_in"
        totals[entry["currency"]][side] = entry["total"]
    for currency, t in totals.items():
        if t["ledger_in"] != t["captured"] or -t["ledger_out"] != t["refunded"]:
            problems.append(f"{currency} totals: payments {t} do not match the ledger")
    return ReconcileReport(payments_checked=checked, problems=problems, totals=dict(totals))
