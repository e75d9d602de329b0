from __future__ import annotations

from django.contrib.auth import login, logout
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_http_methods, require_POST

from accounts import services
from accounts.forms import LoginForm, RegisterForm
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
