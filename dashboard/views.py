"""The staff pages: the live dashboard and the lawyers' list. Anyone else, signed in or not, gets
404 as if they did not exist.

The figures are billing's `admin_dashboard()` (the same payload as GET /api/v1/admin/dashboard,
which the page then polls); the verification queue and the lawyers are marketplace's, and every
verification decision goes through `marketplace.services.lawyer_verify`."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse, QueryDict
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from accounts.models import User
from config.errors import DomainError, NotFound
from dashboard import errors, selectors
from marketplace.models import LawyerProfile
from marketplace.services import REASON_MAX_CHARS, lawyer_verify

# how often the page asks for fresh figures (presence changes within a heartbeat)
REFRESH_SECONDS = 5
LAWYERS_PER_PAGE = 20
SEARCH_MAX_CHARS = 100
Verification = LawyerProfile.Verification
# action → (approved, the statuses it is offered for)
ACTIONS: dict[str, tuple[bool, frozenset[str]]] = {
    "approve": (True, frozenset({Verification.PENDING, Verification.REJECTED})),
    "reject": (False, frozenset({Verification.PENDING})),
    "revoke": (False, frozenset({Verification.VERIFIED})),
}


def is_staff_user(user: User) -> bool:
    return bool(user.is_authenticated and user.is_staff_member)


def _require_staff(request: HttpRequest) -> None:
    if not is_staff_user(request.user):  # type: ignore[arg-type]
        raise Http404


@require_GET
def live(request: HttpRequest) -> HttpResponse:
    _require_staff(request)
    verifications, verifications_waiting = selectors.pending_verifications()
    return render(
        request,
        "dashboard/live.html",
        {
            "figures": selectors.dashboard_figures(),
            "verifications": verifications,
            "verifications_waiting": verifications_waiting,
            "moderation": selectors.moderation_links(),
            "refresh_seconds": REFRESH_SECONDS,
            "labels": selectors.labels(),
        },
    )


@require_GET
def verification_list(request: HttpRequest) -> HttpResponse:
    """The dashboard's verification list alone: its script fetches it when a staff socket hears
    that the queue changed (`verification.changed`), so it renders exactly as on first load."""
    _require_staff(request)
    verifications, verifications_waiting = selectors.pending_verifications()
    return render(
        request,
        "dashboard/_verification_list.html",
        {"verifications": verifications, "verifications_waiting": verifications_waiting},
    )


# --- the lawyers' list ------------------------------------------------------------------------


def _filters(params: QueryDict) -> dict[str, Any]:
    status = params.get("status", "").strip()
    if status and status not in selectors.LAWYER_STATUSES:
        raise errors.InvalidStatusFilter()
    search = params.get("q", "").strip()
    if len(search) > SEARCH_MAX_CHARS:
        raise errors.SearchTooLong()
    page = params.get("page", "1").strip() or "1"
    if not (page.isascii() and page.isdigit()) or int(page) < 1:
        raise errors.InvalidPage()
    return {"status": status, "q": search, "page": int(page)}


def _lawyers_url(filters: dict[str, Any], *, anchor: str = "") -> str:
    query = {k: v for k, v in filters.items() if v and not (k == "page" and v == 1)}
    url = reverse("dashboard:lawyers")
    return url + (f"?{urlencode(query)}" if query else "") + (f"#{anchor}" if anchor else "")


def _render_lawyers(
    request: HttpRequest,
    filters: dict[str, Any],
    *,
    error: DomainError | None = None,
    error_lawyer: int | None = None,
    posted: QueryDict | None = None,
) -> HttpResponse:
    context: dict[str, Any] = {
        "filters": filters,
        "statuses": [(s, Verification(s).label) for s in selectors.LAWYER_STATUSES],
        "reason_max": REASON_MAX_CHARS,
        "error": error,
        "error_lawyer": error_lawyer,
        "posted": posted,
        "page": None,
    }
    status = error.status if error is not None else 200
    if error is None or error_lawyer is not None:
        profiles = selectors.lawyers(status=filters["status"], search=filters["q"])
        paginator = Paginator(profiles, LAWYERS_PER_PAGE)
        if filters["page"] > paginator.num_pages:
            raise Http404
        page = paginator.page(filters["page"])
        context["page"] = page
        if error_lawyer not in {p.user_id for p in page.object_list}:
            context["error_lawyer"] = None  # not on this page: the problem shows at the top
        context["page_filters"] = {
            "previous": _lawyers_url({**filters, "page": filters["page"] - 1}),
            "next": _lawyers_url({**filters, "page": filters["page"] + 1}),
        }
    return render(request, "dashboard/lawyers.html", context, status=status)


@require_GET
def lawyers(request: HttpRequest) -> HttpResponse:
    """Lawyers who submitted a license number: filtered by status, searched by name or license
    number, paginated; each with its verification history and the decisions its status allows."""
    _require_staff(request)
    try:
        filters = _filters(request.GET)
    except DomainError as exc:
        return _render_lawyers(request, {"status": "", "q": "", "page": 1}, error=exc)
    return _render_lawyers(request, filters)


@require_POST
def lawyer_decide(request: HttpRequest, lawyer_id: int) -> HttpResponse:
    """Approve, reject or revoke from the lawyers' list. A revocation needs a reason and a ticked
    confirmation; `expected` (the status the page showed) turns a decision on a status someone
    changed meanwhile into `verification_changed`."""
    _require_staff(request)
    try:
        filters = _filters(request.POST)
    except DomainError:
        filters = {"status": "", "q": "", "page": 1}
    action = request.POST.get("action", "")
    expected = request.POST.get("expected", "")
    reason = request.POST.get("reason", "").strip()
    try:
        if action not in ACTIONS or expected not in ACTIONS[action][1]:
            raise errors.InvalidAction()
        if len(reason) > REASON_MAX_CHARS:
            raise errors.ReasonTooLong()
        if action == "revoke" and request.POST.get("confirm") != "yes":
            raise errors.ConfirmationRequired()
        decision = lawyer_verify(
            staff=request.user,  # type: ignore[arg-type]
            lawyer_id=lawyer_id,
            approved=ACTIONS[action][0],
            reason=reason,
            expected=expected,
        )
    except NotFound as exc:
        raise Http404 from exc
    except DomainError as exc:
        return _render_lawyers(
            request, filters, error=exc, error_lawyer=lawyer_id, posted=request.POST
        )
    done = {
        "approve": _("%(name)s is verified and can be matched."),
        "reject": _("%(name)s's verification was rejected."),
        "revoke": _(
            "%(name)s's approval was revoked: no new consultations; those in progress go on."
        ),
    }[action]
    messages.success(request, done % {"name": decision.profile.user.display_name})
    return redirect(_lawyers_url(filters, anchor=f"lawyer-{lawyer_id}"))
