from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import login, logout, update_session_auth_hash
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from accounts import errors, selectors, services
from accounts.forms import (
    AccountDeleteForm,
    EmailChangeForm,
    LoginForm,
    PasswordChangeForm,
    PasswordResetRequestForm,
    PasswordResetSetForm,
    ProfileForm,
    RegisterForm,
)
from accounts.models import User
from accounts.request_info import client_address, request_language
from config.errors import DomainError, form_add_errors


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
            services.registration_throttle(address=client_address(request))
            user = services.user_register(**form.cleaned_data, language=request_language())
        except DomainError as exc:
            form_add_errors(form, exc)
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
                    address=client_address(request),
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
    email_form: EmailChangeForm | None = None,
    delete_form: AccountDeleteForm | None = None,
    resend_error: str = "",
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
        "email_form": email_form
        or EmailChangeForm(prefix="email", initial={"email": user.email_pending or user.email}),
        "delete_form": delete_form or AccountDeleteForm(prefix="delete"),
        "tokens": list(selectors.api_tokens_active(user=user)),
        "resend_error": resend_error,
    }
    return render(request, "accounts/account.html", context, status=status)


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
            form_add_errors(form, exc)
            status = exc.status
        else:
            messages.success(request, _("Your profile is saved."))
            return redirect("account")
    return _account_page(request, status=status, profile_form=form)


@login_required
@require_POST
def account_email_view(request: HttpRequest) -> HttpResponse:
    form = EmailChangeForm(request.POST, prefix="email")
    status = 422
    if form.is_valid():
        try:
            user = services.user_email_change(
                user=request.user,  # type: ignore[arg-type]
                address=client_address(request),
                language=request_language(),
                **form.cleaned_data,
            )
        except DomainError as exc:
            form_add_errors(form, exc)
            status = exc.status
        else:
            if user.email_pending:
                messages.success(
                    request,
                    _("We sent a confirmation link to the new address: open it to start using it."),
                )
            elif user.email:
                messages.success(request, _("Your e-mail is saved: password reset links go there."))
            else:
                messages.success(request, _("Your e-mail is removed."))
            return redirect("account")
    return _account_page(request, status=status, email_form=form)


@login_required
@require_POST
def account_email_resend_view(request: HttpRequest) -> HttpResponse:
    try:
        services.email_confirm_resend(user=request.user, language=request_language())  # type: ignore[arg-type]
    except DomainError as exc:
        return _account_page(request, status=exc.status, resend_error=str(exc.detail))
    else:
        messages.success(request, _("The confirmation link is sent again."))
    return redirect("account")


@require_http_methods(["GET", "POST"])
def email_confirm_view(request: HttpRequest, token: str) -> HttpResponse:
    """GET only checks the link and shows a button; POST confirms."""
    email = ""
    try:
        if request.method != "POST":
            email = services.email_confirm_check(token=token)
        else:
            services.email_confirm(token=token, language=request_language())
            messages.success(
                request, _("Your e-mail address is confirmed: password reset links go there.")
            )
            return redirect("account" if request.user.is_authenticated else "accounts:login")
    except DomainError as exc:
        context = {"message": exc.detail, "code": exc.code}
        return render(request, "accounts/email_confirm.html", context, status=exc.status)
    return render(request, "accounts/email_confirm.html", {"email": email})


@login_required
@require_POST
def account_password_view(request: HttpRequest) -> HttpResponse:
    user: User = request.user  # type: ignore[assignment]
    form = PasswordChangeForm(request.POST)
    status = 422
    if form.is_valid():
        try:
            revoked = services.user_password_change(
                user=user,
                address=client_address(request),
                language=request_language(),
                **form.cleaned_data,
            )
        except DomainError as exc:
            form_add_errors(form, exc)
            status = exc.status
        else:
            update_session_auth_hash(request, user)
            messages.success(
                request, _("Your password is changed. Your other devices are signed out.")
            )
            _tell_tokens_revoked(request, revoked)
            return redirect("account")
    return _account_page(request, status=status, password_form=form)


def _tell_tokens_revoked(request: HttpRequest, count: int) -> None:
    """After a password change or reset that revoked API tokens: say so, and what it means."""
    if count:
        message = ngettext(
            "%(count)d API token was revoked: the app that used it must sign in again with the "
            "new password.",
            "%(count)d API tokens were revoked: the apps that used them must sign in again with "
            "the new password.",
            count,
        )
        messages.info(request, message % {"count": count})


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
                address=client_address(request),
            )
        except DomainError as exc:
            form_add_errors(form, exc)
            status = exc.status
        else:
            logout(request)
            messages.success(request, _("Your account is deleted. Thank you for using Lawline."))
            return redirect("home")
    return _account_page(request, status=status, delete_form=form)


# --- "Forgot your password?": ask for a link, then set a password through it ---------------
# The token of the link moves into the session and the page continues at .../set-password/,
# as Django's own PasswordResetConfirmView does: the token then never sits in the address bar,
# the history, or the Referer of anything the page loads.
RESET_TOKEN_SESSION_KEY = "_password_reset_token"  # noqa: S105 - a session key name
RESET_URL_TOKEN = "set-password"  # noqa: S105 - a path segment


def _support(context: dict | None = None) -> dict:
    return {"support_email": settings.SUPPORT_EMAIL, **(context or {})}


@require_http_methods(["GET", "POST"])
def password_reset_view(request: HttpRequest) -> HttpResponse:
    form = PasswordResetRequestForm(request.POST or None)
    status = 200
    if request.method == "POST":
        status = 422
        if form.is_valid():
            try:
                services.password_reset_request(
                    login=form.cleaned_data["login"],
                    address=client_address(request),
                    language=request_language(),
                )
            except DomainError as exc:
                form.add_error(None, str(exc.detail))
                status = exc.status
            else:
                return redirect("accounts:password_reset_sent")
    return render(request, "accounts/password_reset.html", _support({"form": form}), status=status)


@require_GET
def password_reset_sent_view(request: HttpRequest) -> HttpResponse:
    return render(request, "accounts/password_reset_sent.html", _support())


def _reset_link_refused(request: HttpRequest, exc: DomainError) -> HttpResponse:
    request.session.pop(RESET_TOKEN_SESSION_KEY, None)
    context = _support({"message": exc.detail, "code": exc.code})
    return render(request, "accounts/password_reset_invalid.html", context, status=exc.status)


@require_http_methods(["GET", "POST"])
def password_reset_link_view(request: HttpRequest, uidb64: str, token: str) -> HttpResponse:
    if token != RESET_URL_TOKEN:  # the link as mailed
        try:
            services.password_reset_link_user(uidb64=uidb64, token=token)
        except DomainError as exc:
            return _reset_link_refused(request, exc)
        request.session[RESET_TOKEN_SESSION_KEY] = token
        return redirect("accounts:password_reset_link", uidb64=uidb64, token=RESET_URL_TOKEN)
    token = request.session.get(RESET_TOKEN_SESSION_KEY, "")
    form = PasswordResetSetForm(request.POST or None)
    status = 200
    try:
        user = services.password_reset_link_user(uidb64=uidb64, token=token)
        if request.method == "POST" and form.is_valid():
            revoked = services.password_reset_confirm(
                uidb64=uidb64,
                token=token,
                new_password=form.cleaned_data["new_password"],
                language=request_language(),
            )
            # every session of the account has ended, this one too; the person signs in with
            # the new password (see README: why not signed in at once)
            logout(request)
            messages.success(
                request, _("Your password is set and every device is signed out. Sign in with it.")
            )
            _tell_tokens_revoked(request, revoked)
            return redirect("accounts:login")
        if request.method == "POST":
            status = 422
    except errors.ResetLinkInvalid as exc:
        return _reset_link_refused(request, exc)
    except DomainError as exc:
        form_add_errors(form, exc)
        status = exc.status
    # the page says beforehand that the account's API tokens go too, when it has any
    context = {"form": form, "has_tokens": selectors.api_tokens_active(user=user).exists()}
    return render(request, "accounts/password_reset_set.html", context, status=status)
