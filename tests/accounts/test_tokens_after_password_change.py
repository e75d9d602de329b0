"""API tokens after a password change or reset (accounts.services.user_password_change,
password_reset_confirm): a reset revokes every token; a change revokes every token but the one
an API client made the change with; the pages say so when there were tokens."""

from __future__ import annotations

import pytest
from django.contrib.auth.tokens import default_token_generator
from django.test import Client
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode

from accounts import errors, services
from accounts.models import ApiToken, User
from accounts.services import token_issue
from tests.factories import TEST_PASSWORD, AskerFactory

pytestmark = pytest.mark.django_db

NEW_PASSWORD = "Lawline-new-pass-2026"
CHANGE = {"current_password": TEST_PASSWORD, "new_password": NEW_PASSWORD}


def me(raw: str):
    return Client().get("/api/v1/auth/me", HTTP_AUTHORIZATION=f"Bearer {raw}")


def signed_in_client(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


def reset_through_the_api(user: User):
    return Client().post(
        "/api/v1/auth/password/reset/confirm",
        {
            "uid": urlsafe_base64_encode(force_bytes(user.pk)),
            "token": default_token_generator.make_token(user),
            "new_password": NEW_PASSWORD,
        },
        content_type="application/json",
    )


def open_reset_page(user: User) -> tuple[Client, str]:
    """A browser that opened the mailed link, and the page it continues at."""
    browser = Client()
    uid = urlsafe_base64_encode(force_bytes(user.pk))
    token = default_token_generator.make_token(user)
    opened = browser.get(f"/accounts/password/reset/{uid}/{token}/")
    assert opened.status_code == 302
    return browser, opened["Location"]


# --- a change through the API, with a token ---------------------------------------------------
def test_an_api_change_keeps_the_callers_token_and_revokes_the_others(asker):
    # given three tokens: the one the app changes the password with, and two others
    _caller, caller_raw = token_issue(user=asker, name="cli")
    _laptop, laptop_raw = token_issue(user=asker, name="laptop")
    _phone, phone_raw = token_issue(user=asker, name="phone")
    # when the app changes the password with its token
    response = Client().post(
        "/api/v1/auth/password",
        CHANGE,
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {caller_raw}",
    )
    # then the caller's token goes on working, and the others answer 401 with the stable code
    assert response.status_code == 204
    assert me(caller_raw).status_code == 200
    for raw in (laptop_raw, phone_raw):
        refused = me(raw)
        assert refused.status_code == 401
        assert refused.json()["code"] == "not_authenticated"
    assert ApiToken.objects.filter(user=asker, revoked_at__isnull=True).count() == 1


def test_a_change_through_the_api_with_the_session_revokes_every_token(asker):
    _token, raw = token_issue(user=asker, name="cli")
    client = signed_in_client(asker)

    response = client.post("/api/v1/auth/password", CHANGE, content_type="application/json")

    assert response.status_code == 204
    assert me(raw).status_code == 401
    assert client.get("/api/v1/auth/me").status_code == 200


def test_a_refused_change_revokes_nothing(api, asker):
    _token, raw = token_issue(user=asker, name="laptop")

    wrong = api(asker).post("auth/password", {**CHANGE, "current_password": "not-mine-at-all"})

    assert wrong.status_code == 422
    assert me(raw).status_code == 200


def test_other_users_tokens_are_left_alone(api, asker, other_asker):
    _theirs, their_raw = token_issue(user=other_asker)

    assert api(asker).post("auth/password", CHANGE).status_code == 204

    assert me(their_raw).status_code == 200


# --- a change on the account page -------------------------------------------------------------
def test_a_change_on_the_page_revokes_every_token_and_says_how_many(asker):
    # given two tokens and the page signed in
    raws = [token_issue(user=asker, name=name)[1] for name in ("laptop", "phone")]
    client = signed_in_client(asker)
    page = client.get("/account/").content.decode()
    assert 'id="password-tokens-note"' in page
    assert "您下方的 API 令牌也会一并撤销" in page
    # when the password is changed on the page
    response = client.post("/account/password/", CHANGE, follow=True)
    # then no token signs in any more, and the page says so
    assert response.status_code == 200
    assert all(me(raw).status_code == 401 for raw in raws)
    body = response.content.decode()
    assert "已撤销 2 个 API 令牌，相关应用需用新密码重新登录。" in body


def test_the_page_says_it_in_english_too(asker):
    token_issue(user=asker, name="laptop")
    client = signed_in_client(asker)

    response = client.post("/account/password/", CHANGE, follow=True, HTTP_ACCEPT_LANGUAGE="en")

    assert (
        "1 API token was revoked: the app that used it must sign in again with the new password."
        in response.content.decode()
    )


def test_without_tokens_the_page_says_nothing_of_them(asker):
    client = signed_in_client(asker)
    assert 'id="password-tokens-note"' not in client.get("/account/").content.decode()

    response = client.post("/account/password/", CHANGE, follow=True, HTTP_ACCEPT_LANGUAGE="en")

    body = response.content.decode()
    assert "Your password is changed." in body
    assert "was revoked" not in body and "were revoked" not in body


# --- a reset ----------------------------------------------------------------------------------
def test_a_reset_through_the_api_revokes_every_token():
    member = AskerFactory(email="li.ming@example.cn")
    raws = [token_issue(user=member, name=name)[1] for name in ("cli", "laptop")]

    assert reset_through_the_api(member).status_code == 204

    for raw in raws:
        refused = me(raw)
        assert refused.status_code == 401 and refused.json()["code"] == "not_authenticated"
    assert not ApiToken.objects.filter(user=member, revoked_at__isnull=True).exists()


def test_the_reset_pages_say_the_tokens_go_before_and_that_they_went_after():
    # given a member with two tokens who opened a reset link
    member = AskerFactory(email="li.ming@example.cn")
    raws = [token_issue(user=member, name=name)[1] for name in ("cli", "laptop")]
    browser, set_page = open_reset_page(member)
    # then the page says beforehand that the tokens go too
    page = browser.get(set_page).content.decode()
    assert 'id="reset-tokens-note"' in page and "您的 API 令牌也会一并撤销" in page
    # when the new password is set
    done = browser.post(
        set_page, {"new_password": NEW_PASSWORD, "new_password_again": NEW_PASSWORD}, follow=True
    )
    # then the sign-in page says how many tokens were revoked, and they were
    assert done.status_code == 200
    assert "已撤销 2 个 API 令牌，相关应用需用新密码重新登录。" in done.content.decode()
    assert all(me(raw).status_code == 401 for raw in raws)


def test_the_reset_pages_say_nothing_of_tokens_there_were_not():
    member = AskerFactory(email="li.ming@example.cn")
    browser, set_page = open_reset_page(member)

    page = browser.get(set_page).content.decode()
    done = browser.post(
        set_page,
        {"new_password": NEW_PASSWORD, "new_password_again": NEW_PASSWORD},
        follow=True,
        HTTP_ACCEPT_LANGUAGE="en",
    )

    assert 'id="reset-tokens-note"' not in page
    assert "Your password is set" in done.content.decode()
    assert "revoked" not in done.content.decode()


def test_the_services_say_how_many_tokens_they_revoked(asker):
    token_issue(user=asker)
    token_issue(user=asker)
    kept, _raw = token_issue(user=asker)

    revoked = services.user_password_change(
        user=asker, keep_token_id=kept.pk, address="127.0.0.1", **CHANGE
    )

    assert revoked == 2
    again = services.password_reset_confirm(
        uidb64=urlsafe_base64_encode(force_bytes(asker.pk)),
        token=default_token_generator.make_token(asker),
        new_password="Lawline-third-2026",
    )
    assert again == 1


# --- a sign-in racing a reset -----------------------------------------------------------------
def test_a_token_asked_for_with_a_password_that_changed_since_is_refused(asker):
    # given a sign-in whose password check passed just before a reset committed
    checked = services.user_check_credentials(
        username=asker.username, password=TEST_PASSWORD, address="127.0.0.1"
    )
    reset_through_the_api(asker)
    # then the token it goes on to ask for is not made: it would outlive the reset
    with pytest.raises(errors.BadCredentials):
        token_issue(user=checked)
    assert not ApiToken.objects.filter(user=asker).exists()
