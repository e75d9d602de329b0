import html
import re
import time

import pytest
from django.utils import translation

from accounts.errors import BadCredentials, InvalidRole, LoginLocked, UsernameTaken, WeakPassword
from accounts.models import ApiToken, User
from messaging.models import Message
from messaging.notices import render_notice

pytestmark = pytest.mark.django_db

GOOD_PASSWORD = "Lawline-strong-pass-42"


def test_register_creates_asker_with_hashed_password(api):
    # when
    response = api(None).post(
        "auth/register",
        {
            "username": "zhang_san",
            "password": GOOD_PASSWORD,
            "role": "asker",
            "phone": "13812345678",
        },
    )
    # then
    assert response.status_code == 201
    body = response.json()
    assert body["username"] == "zhang_san" and body["role"] == "asker"
    user = User.objects.get(username="zhang_san")
    assert user.password != GOOD_PASSWORD and user.check_password(GOOD_PASSWORD)


def test_duplicate_username_is_refused_case_insensitively(api, asker):
    response = api(None).post(
        "auth/register",
        {"username": asker.username.upper(), "password": GOOD_PASSWORD, "role": "asker"},
    )
    assert response.status_code == 409
    assert response.json()["code"] == UsernameTaken.code


def test_weak_password_is_refused_with_field_error(api):
    response = api(None).post(
        "auth/register", {"username": "li_si", "password": "123", "role": "asker"}
    )
    assert response.status_code == 422
    body = response.json()
    assert body["code"] == WeakPassword.code
    assert "password" in body["fields"]
    assert not User.objects.filter(username="li_si").exists()


def test_staff_role_cannot_be_self_registered(api):
    response = api(None).post(
        "auth/register", {"username": "sneaky", "password": GOOD_PASSWORD, "role": "staff"}
    )
    assert response.status_code == 422
    assert response.json()["code"] in {InvalidRole.code, "invalid"}
    assert not User.objects.filter(username="sneaky").exists()


@pytest.mark.parametrize("body", [{}, {"username": 5}, {"username": "a", "password": None}, []])
def test_malformed_register_body_gets_invalid_not_500(api, body):
    response = api(None).post("auth/register", body)
    assert response.status_code == 422
    assert response.json()["code"] == "invalid"


def test_token_then_me(api, asker):
    from tests.factories import TEST_PASSWORD

    response = api(None).post("auth/token", {"username": asker.username, "password": TEST_PASSWORD})
    assert response.status_code == 200
    token = response.json()["token"]
    assert ApiToken.objects.filter(user=asker).count() == 1
    assert token not in ApiToken.objects.get(user=asker).key_hash  # stored hashed
    from django.test import Client

    me = Client().get("/api/v1/auth/me", HTTP_AUTHORIZATION=f"Bearer {token}")
    assert me.status_code == 200
    assert me.json() == {"id": asker.pk, "username": asker.username, "role": "asker"}


def test_revoked_token_no_longer_authenticates(api, asker):
    from django.test import Client

    from accounts.services import token_issue

    token_row, raw = token_issue(user=asker)
    client = Client()
    assert client.get("/api/v1/auth/me", HTTP_AUTHORIZATION=f"Bearer {raw}").status_code == 200
    response = client.delete(
        f"/api/v1/auth/token/{token_row.pk}", HTTP_AUTHORIZATION=f"Bearer {raw}"
    )
    assert response.status_code == 204
    response = client.get("/api/v1/auth/me", HTTP_AUTHORIZATION=f"Bearer {raw}")
    assert response.status_code == 401
    assert response.json()["code"] == "not_authenticated"


def test_wrong_password_gets_bad_credentials(api, asker):
    response = api(None).post(
        "auth/token", {"username": asker.username, "password": "wrong-password"}
    )
    assert response.status_code == 401
    assert response.json()["code"] == BadCredentials.code


def test_repeated_failures_lock_out_even_the_right_password(api, asker, settings, caplog):
    from tests.factories import TEST_PASSWORD

    settings.LOGIN_FAILURE_LIMIT = 3
    for _ in range(2):
        assert (
            api(None)
            .post("auth/token", {"username": asker.username, "password": "nope-secret-1"})
            .status_code
            == 401
        )
    third = api(None).post("auth/token", {"username": asker.username, "password": "nope-secret-1"})
    assert third.status_code == 429 and third.json()["code"] == LoginLocked.code
    locked = api(None).post("auth/token", {"username": asker.username, "password": TEST_PASSWORD})
    assert locked.status_code == 429
    # the failed passwords are never logged, nor what was typed as the username (often a phone
    # number): a keyed digest ties the attempts together
    assert "nope-secret-1" not in caplog.text
    assert asker.username not in caplog.text
    assert caplog.text.count("sign-in failed for username #") == 3


def test_failed_sign_ins_keep_no_typed_username_in_redis_key_names(api, redis_client):
    # given a phone number typed as the username
    typed = "13912345678"
    # when
    api(None).post("auth/token", {"username": typed, "password": "nope-secret-1"})
    # then the failure is counted under a digest, not under the number
    assert not list(redis_client.scan_iter(match=f"*{typed}*"))
    assert list(redis_client.scan_iter(match="*login-fail*"))


def test_login_page_signs_in_and_out(client, asker):
    from tests.factories import TEST_PASSWORD

    response = client.post(
        "/accounts/login/", {"username": asker.username, "password": TEST_PASSWORD}
    )
    assert response.status_code == 302
    assert client.get("/api/v1/auth/me").json()["username"] == asker.username
    client.post("/accounts/logout/")
    assert client.get("/api/v1/auth/me").status_code == 401


def test_register_page_shows_errors_and_keeps_input(client, asker):
    response = client.post(
        "/accounts/register/",
        {"username": asker.username, "password": GOOD_PASSWORD, "role": "asker"},
    )
    assert response.status_code == 422
    assert "该用户名已被占用。" in response.content.decode()  # "This username is already taken."


def test_a_newcomer_sent_to_sign_in_registers_and_lands_where_they_were_going(client):
    # given a visitor whose "ask a lawyer" click was sent to the sign-in page
    target = "/ask/?city=370100&category=debt"
    login_page = client.get("/accounts/login/", {"next": target}).content.decode()
    # when they follow "Create an account" and register
    link = re.search(r'<a href="(/accounts/register/[^"]*)">创建账号</a>', login_page)
    register_url = html.unescape(link.group(1))
    register_page = client.get(register_url).content.decode()
    response = client.post(
        register_url, {"username": "newcomer", "password": GOOD_PASSWORD, "role": "asker"}
    )
    # then they land on the ask page they wanted, and the way back to sign-in keeps it too
    assert response.status_code == 302
    assert response["Location"] == target
    assert 'href="/accounts/login/?next=/ask/%3Fcity%3D370100%26category%3Ddebt"' in register_page


def test_the_headers_sign_in_link_brings_a_reader_back_to_the_page_they_were_reading(client):
    # given an anonymous visitor on a page of the public Q&A
    page = client.get("/lawyers/", {"city": "370100"}).content.decode()
    # then the header's sign-in and register links come back to it
    assert 'href="/accounts/login/?next=/lawyers/%3Fcity%3D370100"' in page
    assert 'href="/accounts/register/?next=/lawyers/%3Fcity%3D370100"' in page
    # and on the sign-in page itself they keep where it leads, not the sign-in page
    login_page = client.get("/accounts/login/", {"next": "/consults/"}).content.decode()
    assert 'href="/accounts/register/?next=/consults/"' in login_page
    assert "next=/accounts/" not in login_page


def test_session_post_without_csrf_is_refused(asker):
    from django.test import Client

    client = Client(enforce_csrf_checks=True)
    client.force_login(asker)
    response = client.delete("/api/v1/auth/token/1")
    assert response.status_code in (401, 403)


def test_argon2_is_the_production_hasher():
    from config.settings import base

    assert base.PASSWORD_HASHERS[0].endswith("Argon2PasswordHasher")


def test_registrations_from_one_address_are_rate_limited(api, settings):
    settings.REGISTER_RATE_LIMIT = 2
    for n in range(2):
        ok = api(None).post("auth/register", {"username": f"flood{n}", "password": GOOD_PASSWORD})
        assert ok.status_code == 201
    refused = api(None).post("auth/register", {"username": "flood9", "password": GOOD_PASSWORD})
    assert refused.status_code == 429
    assert refused.json()["code"] == "rate_limited"
    assert not User.objects.filter(username="flood9").exists()


@pytest.mark.parametrize(
    ("first", "last", "expected"),
    [("建国", "李", "李建国"), ("Ada", "Lovelace", "Ada Lovelace"), ("", "", "fallback_user")],
)
def test_display_name_puts_the_chinese_family_name_first(first, last, expected):
    assert User(username="fallback_user", first_name=first, last_name=last).display_name == expected


def test_with_redis_unreachable_sign_in_still_answers_and_never_500s(api, asker, monkeypatch):
    import redis

    from accounts import throttling
    from tests.factories import TEST_PASSWORD

    class Unreachable:
        def __getattr__(self, name):
            def fail(*args, **kwargs):
                raise redis.ConnectionError("Redis is down")

            return fail

    monkeypatch.setattr(throttling, "get_redis", lambda: Unreachable())
    wrong = api(None).post("auth/token", {"username": asker.username, "password": "nope-secret"})
    assert wrong.status_code == 401
    right = api(None).post("auth/token", {"username": asker.username, "password": TEST_PASSWORD})
    assert right.status_code in (200, 201)
    assert right.json()["token"]


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize(
    ("role", "kind", "words"),
    [("asker", "welcome", "Ask a question"), ("lawyer", "welcome_lawyer", "Complete your profile")],
)
def test_a_new_user_finds_a_welcome_for_their_role(api, celery_test_worker, role, kind, words):
    # when someone registers (the notice goes by a task on a real worker)
    response = api(None).post(
        "auth/register", {"username": f"new_{role}", "password": GOOD_PASSWORD, "role": role}
    )
    assert response.status_code == 201
    user = User.objects.get(username=f"new_{role}")
    # then their inbox holds the welcome of their role, once
    deadline = time.monotonic() + 10
    while not Message.objects.filter(conversation__participants__user=user).exists():
        assert time.monotonic() < deadline, "no welcome notice arrived"
        time.sleep(0.05)
    (notice,) = Message.objects.filter(conversation__participants__user=user)
    assert notice.notice["kind"] == kind
    with translation.override("en"):
        assert words in render_notice(kind, notice.notice["params"])


def test_every_problem_of_a_registration_is_told_at_once(api, client):
    payload = {"username": "x", "password": "123", "role": "asker", "phone": "12345"}
    # through the API: the first problem's code, every field's message
    response = api(None).post("auth/register", payload)
    assert response.status_code == 422
    body = response.json()
    assert body["code"] == "invalid_username"
    assert set(body["fields"]) == {"username", "phone", "password"}
    # on the page: each field shows its own error
    page = client.post("/accounts/register/", payload)
    html_text = html.unescape(page.content.decode())
    assert page.status_code == 422
    for field in ("username", "phone", "password"):
        assert re.search(rf'id="id_{field}".*?class="field-error"', html_text, re.S), field
    assert not User.objects.exists()
