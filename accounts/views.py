from __future__ import annotations

from django import forms
from django.contrib import messages
from django.contrib.auth import login, logout, update_session_auth_hash
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from accounts import selectors, services
from accounts.forms import (
    AccountDeleteForm,
    LoginForm,
    PasswordChangeForm,
    ProfileForm,
    RegisterForm,
)
from accounts.models import User
from config.errors import DomainError


def safe_next(request: HttpRequest, default: str = "/") -> str:
    target = request.POST.get("next") or request.GET.get("next") or default
    if url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}):
        return target
    return default


@require_http_methods(["GET", "POST"])
def register_view(request: HttpRequest) -> HttpResponse:
    form = RegisterForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.registration_throttle(address=request.META.get("REMOTE_ADDR") or "unknown")
            user = services.user_register(**form.cleaned_data)
        except DomainError as exc:
            for field, message in (exc.fields or {"__all__": exc.detail}).items():
                form.add_error(None if field == "__all__" else field, str(message))
        else:
            login(request, user, backend="django.contrib.auth.backends.ModelBackend")
            return redirect(safe_next(request))
    status = 422 if request.method == "POST" else 200
    return render(request, "accounts/register.html", {"form": form}, status=status)


@require_http_methods(["GET", "POST"])
def login_view(request: HttpRequest) -> HttpResponse:
    form = LoginForm(request.POST or None)
    status = 200
    if request.method == "POST":
        status = 422
        if form.is_valid():
            try:
                user = services.user_check_credentials(
                    username=form.cleaned_data["username"],
                    password=form.cleaned_data["password"],
                    address=request.META.get("REMOTE_ADDR") or "unknown",
                    request=request,
                )
            except DomainError as exc:
                form.add_error(None, str(exc.detail))
                status = exc.status
            else:
                login(request, user)
                return redirect(safe_next(request))
    return render(request, "accounts/login.html", {"form": form}, status=status)


@require_POST
def logout_view(request: HttpRequest) -> HttpResponse:
    logout(request)
    return redirect("home")


# --- /account/: one page, a form per concern; each POST goes to its own URL and, when refused,
# re-renders the whole page with that form's errors (422, or the error's own status) ----------
def _account_page(
    request: HttpRequest,
    *,
    status: int = 200,
    profile_form: ProfileForm | None = None,
    password_form: PasswordChangeForm | None = None,
    delete_form: AccountDeleteForm | None = None,
) -> HttpResponse:
    user: User = request.user  # type: ignore[assignment]
    context = {
        "profile_form": profile_form
        or ProfileForm(
            initial={
                "first_name": user.first_name,
                "last_name": user.last_name,
                "phone": user.phone,
            }
        ),
        "password_form": password_form or PasswordChangeForm(),
        "delete_form": delete_form or AccountDeleteForm(prefix="delete"),
        "tokens": list(selectors.api_tokens_active(user=user)),
    }
    return render(request, "accounts/account.html", context, status=status)


def _add_errors(form: forms.Form, exc: DomainError) -> None:
    for field, message in (exc.fields or {"__all__": exc.detail}).items():
        form.add_error(field if field in form.fields else None, str(message))


def _address(request: HttpRequest) -> str:
    return request.META.get("REMOTE_ADDR") or "unknown"


@login_required
@require_GET
def account_view(request: HttpRequest) -> HttpResponse:
    return _account_page(request)


@login_required
@require_POST
def account_profile_view(request: HttpRequest) -> HttpResponse:
    form = ProfileForm(request.POST)
    status = 422
    if form.is_valid():
        try:
            services.user_profile_update(user=request.user, **form.cleaned_data)  # type: ignore[arg-type]
        except DomainError as exc:
            _add_errors(form, exc)
            status = exc.status
        else:
            messages.success(request, _("Your profile is saved."))
            return redirect("account")
    return _account_page(request, status=status, profile_form=form)


@login_required
@require_POST
def account_password_view(request: HttpRequest) -> HttpResponse:
    user: User = request.user  # type: ignore[assignment]
    form = PasswordChangeForm(request.POST)
    status = 422
    if form.is_valid():
        try:
            services.user_password_change(user=user, address=_address(request), **form.cleaned_data)
        except DomainError as exc:
            _add_errors(form, exc)
            status = exc.status
        else:
            update_session_auth_hash(request, user)
            messages.success(
                request, _("Your password is changed. Your other devices are signed out.")
            )
            return redirect("account")
    return _account_page(request, status=status, password_form=form)


@login_required
@require_POST
def account_token_revoke_view(request: HttpRequest, token_id: int) -> HttpResponse:
    services.token_revoke(user=request.user, token_id=token_id)  # type: ignore[arg-type]
    messages.success(request, _("The token is revoked: it no longer signs in."))
    return redirect("account")


@login_required
@require_POST
def account_delete_view(request: HttpRequest) -> HttpResponse:
    form = AccountDeleteForm(request.POST, prefix="delete")
    status = 422
    if form.is_valid():
        try:
            services.user_delete(
                user=request.user,  # type: ignore[arg-type]
                password=form.cleaned_data["password"],
                confirmed=form.cleaned_data["confirm"],
                address=_address(request),
            )
        except DomainError as exc:
            _add_errors(form, exc)
            status = exc.status
        else:
            logout(request)
            messages.success(request, _("Your account is deleted. Thank you for using Lawline."))
            return redirect("home")
    return _account_page(request, status=status, delete_form=form)
