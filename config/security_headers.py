"""Content-Security-Policy on every page. A view that needs a wider policy (the Stripe card
page) sets `response.csp_extra = {"script-src": [...], ...}`."""

from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse

BASE_POLICY: dict[str, list[str]] = {
    "default-src": ["'self'"],
    "script-src": ["'self'"],
    "style-src": ["'self'"],
    "img-src": ["'self'", "data:"],
    "connect-src": ["'self'"],
    "font-src": ["'self'"],
    "frame-src": ["'none'"],
    "frame-ancestors": ["'none'"],
    "form-action": ["'self'"],
    "base-uri": ["'self'"],
    "object-src": ["'none'"],
}


def build_policy(extra: dict[str, list[str]] | None = None) -> str:
    policy = {name: list(values) for name, values in BASE_POLICY.items()}
    for name, values in (extra or {}).items():
        policy.setdefault(name, [])
        policy[name] = [v for v in policy[name] if v != "'none'"] + values
    return "; ".join(f"{name} {' '.join(values)}" for name, values in policy.items())


DEFAULT_POLICY = build_policy()


class ContentSecurityPolicyMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("Referrer-Policy", "same-origin")
        if response.get("Content-Type", "").startswith("text/html"):
            extra = getattr(response, "csp_extra", None)
            response.headers["Content-Security-Policy"] = (
                build_policy(extra) if extra else DEFAULT_POLICY
            )
        return response
