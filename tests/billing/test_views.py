from __future__ import annotations

from django.test import Client

from billing.models import Payment
from marketplace.models import Consult
from tests.billing.factories import paid_consult
from tests.factories import TEST_PASSWORD


def signed_in(user) -> Client:
    client = Client()
    assert client.login(username=user.username, password=TEST_PASSWORD)
    return client


def test_sandbox_pay_page_has_a_pay_button_and_no_third_party_scripts(asker, sandbox_on):
    # given
    _, payment = paid_consult(asker=asker)
    # when
    response = signed_in(asker).get(f"/billing/pay/{payment.pk}/")
    # then
    assert response.status_code == 200
    assert b'method="post"' in response.content
    assert (
        '<p class="amount-due" data-amount>¥49.00</p>' in response.content.decode()
    )  # as every page writes money
    assert "js.stripe.com" not in response.headers["Content-Security-Policy"]
    assert b"js.stripe.com" not in response.content


def test_pressing_pay_in_the_sandbox_authorises_and_starts_matching(asker, sandbox_on):
    # given
    consult, payment = paid_consult(asker=asker)
    client = signed_in(asker)
    # when
    response = client.post(f"/billing/pay/{payment.pk}/")
    # then
    assert response.status_code == 302
    payment.refresh_from_db()
    consult.refresh_from_db()
    assert payment.state == Payment.State.AUTHORIZED
    assert consult.state == Consult.State.QUEUED


def test_pressing_pay_twice_says_authorised_once(asker, sandbox_on):
    # given
    _, payment = paid_consult(asker=asker)
    client = signed_in(asker)
    # when the form is sent twice (a double click without the page's script, a resend)
    first = client.post(f"/billing/pay/{payment.pk}/")
    second = client.post(f"/billing/pay/{payment.pk}/")
    # then both land in the consultation, which says "authorised" once
    assert first["Location"] == second["Location"]
    page = client.get(first["Location"]).content.decode()
    assert page.count("flash-success") == 1


def test_pay_page_of_someone_elses_payment_is_404(asker, other_asker, sandbox_on):
    _, payment = paid_consult(asker=asker)
    assert signed_in(other_asker).get(f"/billing/pay/{payment.pk}/").status_code == 404
    assert signed_in(other_asker).post(f"/billing/pay/{payment.pk}/").status_code == 404


def test_stripe_pay_page_allows_stripe_js_on_that_page_only(asker, stripe_on):
    # given
    _, payment = paid_consult(asker=asker)
    client = signed_in(asker)
    # when
    response = client.get(f"/billing/pay/{payment.pk}/")
    # then
    policy = response.headers["Content-Security-Policy"]
    assert "script-src 'self' https://js.stripe.com" in policy
    assert "frame-src https://js.stripe.com https://hooks.stripe.com" in policy
    assert "connect-src 'self' https://api.stripe.com" in policy
    payment.refresh_from_db()
    assert payment.client_secret.encode() in response.content
    assert b"pk_test_lawline" in response.content
    other = client.get("/")
    assert "js.stripe.com" not in other.headers.get("Content-Security-Policy", "")


def test_pressing_the_sandbox_button_with_stripe_configured_changes_nothing(asker, stripe_on):
    _, payment = paid_consult(asker=asker)
    signed_in(asker).post(f"/billing/pay/{payment.pk}/")
    payment.refresh_from_db()
    assert payment.state == Payment.State.REQUIRES_PAYMENT
