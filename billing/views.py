"""The asker's card step. Sandbox: a "pay" button that authorises through the sandbox gateway.
Stripe: Stripe's own Payment Element (js.stripe.com, allowed in this page's CSP only); after it,
the page asks the server to check the payment with Stripe (`/payments/{id}/sync`), and the
payment moves only on Stripe's answer or its signed webhook."""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import NoReverseMatch, reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from accounts.models import User
from billing import services
from billing.models import Payment
from config.errors import DomainError, NotFound

# what Stripe.js needs, on this page only
STRIPE_CSP = {
    "script-src": ["https://js.stripe.com"],
    "frame-src": ["https://js.stripe.com", "https://hooks.stripe.com"],
    "connect-src": ["https://api.stripe.com"],
}


def consult_page_url(consult_id: int) -> str | None:
    try:
        return reverse("pages:consult", args=[consult_id])
    except NoReverseMatch:
        return None


@login_required
@require_http_methods(["GET", "POST"])
def payment_page(request: HttpRequest, payment_id: int) -> HttpResponse:
    user: User = request.user  # type: ignore[assignment]
    try:
        payment = services.payment_checkout(payment_id=payment_id, user=user)
    except NotFound as exc:
        raise Http404 from exc
    except DomainError as exc:
        messages.error(request, str(exc.detail))
        payment = Payment.objects.select_related("consult").get(pk=payment_id)
    if request.method == "POST":
        # a second click (or a resent form) finds the payment authorised: no second "authorised"
        already_authorized = payment.state == Payment.State.AUTHORIZED
        try:
            payment = services.payment_sandbox_authorize(payment_id=payment.pk, user=user)
        except DomainError as exc:
            messages.error(request, str(exc.detail))
        else:
            if not already_authorized:
                messages.success(request, _("Payment authorised. We are finding you a lawyer now."))
            return redirect(consult_page_url(payment.consult_id) or request.path)
        return redirect(request.path)
    use_stripe = payment.gateway == Payment.Gateway.STRIPE
    response = render(
        request,
        "billing/pay.html",
        {
            "payment": payment,
            "consult": payment.consult,
            "question": payment.consult.question,
            "use_stripe": use_stripe,
            "publishable_key": settings.STRIPE_PUBLISHABLE_KEY if use_stripe else "",
            "consult_url": consult_page_url(payment.consult_id),
        },
    )
    if use_stripe and payment.state == Payment.State.REQUIRES_PAYMENT:
        response.csp_extra = STRIPE_CSP  # type: ignore[attr-defined]
    return response
