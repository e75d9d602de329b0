"""What the staff dashboard reads, from the apps that own it."""

from __future__ import annotations

from typing import Any

from django.db.models import Count, Window
from django.urls import NoReverseMatch, reverse
from django.utils.translation import gettext_lazy as _

from marketplace.selectors import STAFF_LAWYER_STATUSES

# verification requests shown on the dashboard; the rest are on the lawyers' page
VERIFICATIONS_LISTED = 20
# the statuses the lawyers' page filters by
LAWYER_STATUSES = STAFF_LAWYER_STATUSES


def dashboard_figures() -> dict[str, Any]:
    from billing.selectors import admin_dashboard

    return admin_dashboard()


def pending_verifications() -> tuple[list, int]:
    """The longest-waiting verification requests, and how many wait in all: one query for both
    (the total is a window count over every row, taken before the limit) and one for their
    practice areas. The list shows no regions served, so they are not read."""
    from marketplace.selectors import verification_queue

    listed = list(
        verification_queue()
        .prefetch_related(None)
        .prefetch_related("categories")
        .annotate(waiting_in_all=Window(Count("pk")))[:VERIFICATIONS_LISTED]
    )
    return listed, (listed[0].waiting_in_all if listed else 0)


def lawyers(*, status: str = "", search: str = ""):
    """Lawyers who submitted a license number, with what the lawyers' page shows of each."""
    from marketplace.selectors import lawyers_for_staff

    return lawyers_for_staff(status=status, search=search)


def _url(name: str, *args: Any) -> str | None:
    try:
        return reverse(name, args=args)
    except NoReverseMatch:
        return None


def moderation_links() -> list[dict[str, Any]]:
    """Where staff review reports and answers: the Q&A moderation page when it exists, and the
    admin's change lists."""
    candidates = [
        (_("Moderation queue"), _url("qa:moderation")),
        (_("Reports"), _url("admin:qa_report_changelist")),
        (_("Answers"), _url("admin:qa_answer_changelist")),
        (_("Lawyer profiles"), _url("admin:marketplace_lawyerprofile_changelist")),
        (_("Consultations"), _url("admin:marketplace_consult_changelist")),
        (_("Payments"), _url("admin:billing_payment_changelist")),
    ]
    return [{"label": label, "url": url} for label, url in candidates if url]


def labels() -> dict[str, dict[str, str]]:
    """Names the page's script shows: practice areas, search scopes, consult states and
    verification outcomes, in the page language."""
    from marketplace.models import Consult, LawyerProfile
    from marketplace.selectors import category_list

    return {
        "categories": {c.slug: c.name for c in category_list()},
        "scopes": {value: str(label) for value, label in Consult.Scope.choices},
        "states": {value: str(label) for value, label in Consult.State.choices},
        "verification": {value: str(label) for value, label in LawyerProfile.Verification.choices},
    }
