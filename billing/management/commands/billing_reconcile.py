"""Check the ledger against the payments; exit 1 on any mismatch (for cron and CI)."""

import sys

from django.core.management.base import BaseCommand

from billing.ledger import ledger_reconcile


class Command(BaseCommand):
    help = (
        "Reconcile ledger entries with captured and refunded payments (non-zero exit on mismatch)."
    )

    def handle(self, *args, **options):
        report = ledger_reconcile()
        for currency, totals in sorted(report.totals.items()):
            self.stdout.write(
                f"{currency}: captured {totals['captured']}, refunded {totals['refunded']}, "
                f"ledger in {totals['ledger_in']}, ledger out {totals['ledger_out']}"
            )
        if report.ok:
            self.stdout.write(
                self.style.SUCCESS(f"ok: {report.payments_checked} payments reconcile")
            )
            return
        for problem in report.problems:
            self.stderr.write(problem)
        self.stderr.write(self.style.ERROR(f"{len(report.problems)} mismatch(es)"))
        sys.exit(1)
