from __future__ import annotations

from decimal import Decimal

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from accounts.models import User
from config.errors import DomainError, NotFound, form_add_errors
from marketplace import selectors, services
from marketplace.forms import MODE_PUBLIC, AskForm, LawyerProfileForm

FORM_FIELDS = {"title", "body", "category", "city", "price"}  # shown; others go on top


def _named_lawyer(raw: str | None):
    # isdigit() alone lets through digits int() refuses ("²")
    if not raw or not (raw.isascii() and raw.isdigit()):
        return None
    try:
        return selectors.lawyer_public_profile(lawyer_id=int(raw))
    except NotFound:
        return None


@login_required
@require_http_methods(["GET", "POST"])
def ask(request: HttpRequest) -> HttpResponse:
    """Ask a question and, unless it is only posted publicly, start a consult at once."""
    user: User = request.user  # type: ignore[assignment]
    if user.role != User.Role.ASKER:
        return render(request, "marketplace/ask_not_asker.html", status=403)
    named = _named_lawyer(request.POST.get("lawyer") or request.GET.get("lawyer"))
    fixed_price = named.price if named is not None and named.price > 0 else None
    initial = {
        "title": request.GET.get("title", "")[: services.TITLE_MAX_CHARS],
        "category": request.GET.get("category", ""),
        "city": request.GET.get("city", ""),
        "lawyer": named.user_id if named else None,
        "mode": "paid" if fixed_price else "free",
        "price": Decimal(fixed_price) / 100 if fixed_price else None,
    }
    form = AskForm(
        request.POST or None,
        initial=initial,
        fixed_price=fixed_price,
        named_is_free=named is not None and named.price == 0,
        currency=named.currency if named is not None else "CNY",
    )
    status = 200
    if request.method == "POST":
        status = 422
        if form.is_valid():
            data = form.cleaned_data
            try:
                with transaction.atomic():
                    question = services.question_create(
                        asker=user,
                        title=data["title"],
                        body=data["body"],
                        category=data["category"],
                        city=data["city"],
                        is_public=data["mode"] == MODE_PUBLIC or data["is_public"],
                        is_anonymous=data["is_anonymous"],
                    )
                    consult = None
                    if data["mode"] != MODE_PUBLIC:
                        consult = services.consult_create(
                            asker=user,
                            question_id=question.pk,
                            lawyer_id=named.user_id if named else None,
                            paid=form.paid,
                            price=form.price_in_fen(),
                            currency=named.currency if named and fixed_price else "CNY",
                        )
            except DomainError as exc:
                form_add_errors(form, exc, shown=FORM_FIELDS)
                status = exc.status
            else:
                if consult is not None:
                    return redirect(reverse("pages:consult", args=[consult.pk]))
                return redirect(reverse("qa:question", args=[question.pk]))
    return render(
        request,
        "marketplace/ask.html",
        {"form": form, "named": named, "fixed_price": fixed_price},
        status=status,
    )


@login_required
@require_http_methods(["GET", "POST"])
def lawyer_profile(request: HttpRequest) -> HttpResponse:
    """The lawyer fills in their profile and submits their licence for verification."""
    user: User = request.user  # type: ignore[assignment]
    if not user.is_lawyer:
        return render(request, "marketplace/lawyer_profile_not_lawyer.html", status=403)
    try:
        profile = selectors.lawyer_own_profile(lawyer=user)
    except NotFound:
        profile = None
    form = LawyerProfileForm(request.POST or None, initial=LawyerProfileForm.initial_from(profile))
    status = 200
    if request.method == "POST":
        status = 422
        if form.is_valid():
            try:
                services.lawyer_profile_update(lawyer=user, **form.service_arguments())
            except DomainError as exc:
                form_add_errors(form, exc)
                status = exc.status
            else:
                messages.success(request, _("Your profile is saved."))
                return redirect(reverse("lawyer_profile"))
    decisions = list(profile.verification_decisions.all()) if profile else []
    return render(
        request,
        "marketplace/lawyer_profile.html",
        {"form": form, "profile": profile, "last_decision": decisions[0] if decisions else None},
        status=status,
    )
