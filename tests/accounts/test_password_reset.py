"""Forgotten passwords: a link by e-mail (accounts.services.password_reset_*, accounts.tasks),
the pages under /accounts/password/reset/ and the API under /api/v1/auth/password/reset."""

from __future__ import annotations

import logging
import re
import smtplib
from datetime import datetime, timedelta

import pytest
from django.contrib.auth import authenticate
from django.contrib.auth.tokens import default_token_generator
from django.test import Client
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode

from accounts import errors
from accounts.models import AccountMail, User
from accounts.services import password_reset_request
from accounts.tasks import account_mail_send_task
from accounts.throttling import login_is_locked, login_record_failure
from tests.accounts.mails import mail_row, mails_asked, run_mail_task, tasks_asked, wait_for_mail
from tests.factories import TEST_PASSWORD, AskerFactory

pytestmark = pytest.mark.django_db

NEW_PASSWORD = "Lawline-reset-2026"
LINK_RE = re.compile(
    r"https?://[^/\s]+/accounts/password/reset/(?P<uid>[^/\s]+)/(?P<token>[^/\s]+)/"
)
SAME_ANSWER = "/accounts/password/reset/sent/"


@pytest.fixture
def member(db) -> User:
    return AskerFactory(email="li.ming@example.cn")


RESET = AccountMail.Kind.PASSWORD_RESET


def link_of(message) -> tuple[str, str]:
    found = LINK_RE.search(message.body)
    assert found, message.body
    return found["uid"], found["token"]


def ask(client: Client, login: str, **extra):
    return client.post("/accounts/password/reset/", {"login": login}, **extra)


def confirm(uid: str, token: str, password: str = NEW_PASSWORD):
    return Client().post(
        "/api/v1/auth/password/reset/confirm",
        {"uid": uid, "token": token, "new_password": password},
        content_type="application/json",
    )


def uid_of(user: User) -> str:
    return urlsafe_base64_encode(force_bytes(user.pk))


# --- the whole flow, with the mail sent by a real worker --------------------------------------
@pytest.mark.django_db(transaction=True)
def test_a_reset_by_mail_sets_the_password_and_signs_out_every_device(celery_test_worker):
    # given a member with an e-mail, signed in on another device
    member = AskerFactory(email="li.ming@example.cn")
    other_device = Client()
    other_device.force_login(member)
    # when they ask for a link by their address, in Chinese (the default)
    response = ask(Client(), "Li.Ming@Example.cn")
    # then the answer is the generic one and a worker mails them a link
    assert response.status_code == 302 and response["Location"] == SAME_ANSWER
    (message,) = wait_for_mail()
    assert message.to == ["li.ming@example.cn"]
    assert message.subject == "重置您的律连密码"
    assert "60 分钟内有效" in message.body
    html, mimetype = message.alternatives[0]
    assert mimetype == "text/html" and LINK_RE.search(html)
    # when they open the link and set a new password
    browser = Client()
    uid, token = link_of(message)
    opened = browser.get(f"/accounts/password/reset/{uid}/{token}/")
    assert opened.status_code == 302
    assert opened["Location"] == f"/accounts/password/reset/{uid}/set-password/"
    assert token not in opened["Location"]
    assert browser.get(opened["Location"]).status_code == 200
    done = browser.post(
        opened["Location"], {"new_password": NEW_PASSWORD, "new_password_again": NEW_PASSWORD}
    )
    # then they are sent to sign in; the old password fails, the new one works
    assert done.status_code == 302 and done["Location"] == "/accounts/login/"
    assert authenticate(username=member.username, password=TEST_PASSWORD) is None
    assert authenticate(username=member.username, password=NEW_PASSWORD) is not None
    # and the other device is signed out, and the link does not work twice
    assert other_device.get("/api/v1/auth/me").status_code == 401
    again = Client().get(f"/accounts/password/reset/{uid}/{token}/")
    assert again.status_code == 400
    assert 'data-code="reset_link_invalid"' in again.content.decode()


def test_the_sign_in_page_links_to_the_reset(client):
    page = client.get("/accounts/login/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert 'href="/accounts/password/reset/"' in page and "Forgot your password?" in page


# --- the same answer for everyone ----------------------------------------------------------
@pytest.mark.parametrize("login", ["nobody-here", "nobody@example.cn", ""])
def test_an_unknown_login_gets_the_same_answer_and_sends_nothing(client, login):
    response = ask(client, login)
    if login:
        assert response.status_code == 302 and response["Location"] == SAME_ANSWER
    else:  # an empty form is only asked again
        assert response.status_code == 422
    assert mails_asked(RESET) == []


def test_an_account_without_an_e_mail_gets_the_same_answer_and_nothing(client):
    no_mail = AskerFactory(email="")

    response = ask(client, no_mail.username)

    assert response.status_code == 302 and response["Location"] == SAME_ANSWER
    assert mails_asked(RESET) == []


def test_the_api_answers_202_with_one_message_whether_or_not_the_account_exists(api, member):
    known = api(None).post("auth/password/reset", {"login": member.username})
    unknown = api(None).post("auth/password/reset", {"login": "nobody-here"})

    assert known.status_code == unknown.status_code == 202
    assert known.json() == unknown.json()
    assert len(mails_asked(RESET)) == 1


def test_the_task_is_given_the_outbox_rows_id_only(client, member, monkeypatch):
    queued = tasks_asked(monkeypatch, account_mail_send_task)

    ask(client, member.email, HTTP_ACCEPT_LANGUAGE="en")

    (row,) = AccountMail.objects.filter(kind=RESET)
    assert (row.user_id, row.language, row.address) == (member.pk, "en", "")
    assert queued == [((row.pk,), {})]


@pytest.mark.parametrize(
    ("login", "queries"),
    [("li.ming@example.cn", 2), ("nobody@example.cn", 1), ("nobody-here", 1)],
)
def test_a_request_reads_once_and_writes_only_the_mail_it_asks_for(
    member, django_assert_num_queries, login, queries
):
    # one lookup whoever is asked for; an account that gets a mail has its outbox row written
    with django_assert_num_queries(queries):
        password_reset_request(login=login, address="10.0.0.1", language="zh-hans")


def test_the_sent_page_tells_everyone_about_accounts_without_an_e_mail(client, settings):
    page = client.get(SAME_ANSWER, HTTP_ACCEPT_LANGUAGE="en").content.decode()

    assert "If an account with that username or e-mail exists" in page
    assert settings.SUPPORT_EMAIL in page


# --- the mail --------------------------------------------------------------------------------
def test_the_mail_is_in_the_requesters_language_with_a_working_link(member, mailoutbox):
    run_mail_task(mail_row(member, RESET, "en"))

    (message,) = mailoutbox
    assert message.subject == "Reset your Lawline password"
    assert "works once, for 60 minutes" in message.body
    uid, token = link_of(message)
    assert confirm(uid, token).status_code == 204


def test_a_redelivered_task_sends_no_second_mail(member, mailoutbox):
    row = mail_row(member, RESET)
    run_mail_task(row, task_id="reset-once")
    run_mail_task(row, task_id="reset-once")

    assert len(mailoutbox) == 1


def test_a_mail_server_that_fails_once_is_tried_again(member, mailoutbox, monkeypatch):
    from accounts import reset_mail

    send = reset_mail.password_reset_mail_send
    failures = [ConnectionRefusedError("smtp down")]

    def flaky(**kwargs):
        if failures:
            raise failures.pop()
        send(**kwargs)

    monkeypatch.setattr(reset_mail, "password_reset_mail_send", flaky)

    run_mail_task(mail_row(member, RESET))

    assert failures == [] and len(mailoutbox) == 1


def test_mail_server_errors_never_put_the_address_in_the_logs(
    member, mailoutbox, monkeypatch, caplog
):
    from accounts import reset_mail

    caplog.set_level(logging.DEBUG)
    errors_to_raise = [
        smtplib.SMTPRecipientsRefused({member.email: (550, b"no such mailbox")}),
        smtplib.SMTPServerDisconnected(f"lost the line while sending to {member.email}"),
    ]

    def failing(**kwargs):
        raise errors_to_raise.pop()

    monkeypatch.setattr(reset_mail, "password_reset_mail_send", failing)

    run_mail_task(mail_row(member, RESET))

    # the disconnect was retried, the refused address was not tried again
    assert errors_to_raise == [] and mailoutbox == []
    assert "SMTPServerDisconnected" in caplog.text
    assert member.email not in caplog.text


def test_a_task_for_an_account_closed_since_sends_nothing(member, mailoutbox):
    User.objects.filter(pk=member.pk).update(is_active=False)

    run_mail_task(mail_row(member, RESET))

    assert mailoutbox == []


def test_no_e_mail_or_phone_is_logged_from_request_to_mail(client, member, caplog, mailoutbox):
    caplog.set_level(logging.DEBUG)
    unknown = AskerFactory(email="someone.else@example.cn")
    User.objects.filter(pk=unknown.pk).update(is_active=False)

    ask(client, member.email)
    ask(client, unknown.email)
    run_mail_task(AccountMail.objects.get(kind=RESET))

    assert len(mailoutbox) == 1
    for secret in (member.email, member.phone, unknown.email, "li.ming"):
        assert secret.lower() not in caplog.text.lower()


# --- links that do not work ------------------------------------------------------------------
def test_an_expired_link_is_refused_with_its_code(member, monkeypatch, settings):
    made_at = datetime.now() - timedelta(seconds=settings.PASSWORD_RESET_TIMEOUT + 60)
    monkeypatch.setattr(default_token_generator, "_now", lambda: made_at)
    token = default_token_generator.make_token(member)
    monkeypatch.undo()

    response = confirm(uid_of(member), token)

    assert response.status_code == 400
    assert response.json()["code"] == errors.ResetLinkInvalid.code
    assert authenticate(username=member.username, password=TEST_PASSWORD) is not None


def test_a_used_link_is_refused_the_second_time(member):
    token = default_token_generator.make_token(member)

    assert confirm(uid_of(member), token).status_code == 204
    second = confirm(uid_of(member), token, "Another-new-pass-2026")

    assert second.status_code == 400 and second.json()["code"] == "reset_link_invalid"
    assert authenticate(username=member.username, password=NEW_PASSWORD) is not None


@pytest.mark.parametrize(
    "tamper",
    [
        lambda uid, token: (uid, token[:-1] + ("a" if token[-1] != "a" else "b")),
        lambda uid, token: ("bm90LWFuLWlk", token),
        lambda uid, token: ("%%%", token),
        lambda uid, token: (urlsafe_base64_encode(b"999999"), token),
    ],
    ids=["token", "uid-garbage", "uid-not-base64", "uid-of-nobody"],
)
def test_a_tampered_link_is_refused_with_its_code(member, tamper):
    uid, token = tamper(uid_of(member), default_token_generator.make_token(member))

    response = confirm(uid, token)

    assert response.status_code == 400 and response.json()["code"] == "reset_link_invalid"


def test_a_link_made_before_the_e_mail_changed_no_longer_works(member):
    token = default_token_generator.make_token(member)
    User.objects.filter(pk=member.pk).update(email="new.address@example.cn")

    assert confirm(uid_of(member), token).json()["code"] == "reset_link_invalid"


def test_the_page_of_a_dead_link_says_so_and_offers_a_new_one(client, member):
    response = client.get(f"/accounts/password/reset/{uid_of(member)}/not-a-token/")

    page = response.content.decode()
    assert response.status_code == 400
    assert "此密码重置链接已过期或已被使用" in page
    assert 'href="/accounts/password/reset/"' in page


def test_a_weak_password_is_refused_and_the_link_still_works(member):
    token = default_token_generator.make_token(member)

    weak = confirm(uid_of(member), token, "12345678")

    assert weak.status_code == 422 and weak.json()["code"] == errors.WeakPassword.code
    assert "new_password" in weak.json()["fields"]
    assert confirm(uid_of(member), token).status_code == 204


def test_two_different_passwords_on_the_page_are_asked_again(client, member):
    token = default_token_generator.make_token(member)
    opened = client.get(f"/accounts/password/reset/{uid_of(member)}/{token}/")

    response = client.post(
        opened["Location"], {"new_password": NEW_PASSWORD, "new_password_again": "different-1"}
    )

    assert response.status_code == 422
    assert authenticate(username=member.username, password=TEST_PASSWORD) is not None


def test_the_set_password_page_without_a_link_opened_is_refused(client, member):
    response = client.get(f"/accounts/password/reset/{uid_of(member)}/set-password/")

    assert response.status_code == 400


def test_a_reset_lifts_the_sign_in_lockouts_of_the_account(
    member, settings, django_capture_on_commit_callbacks
):
    for _ in range(settings.LOGIN_FAILURE_LIMIT):
        login_record_failure(username=member.username, address="10.0.0.1")
        login_record_failure(username=member.username.upper(), address="10.0.0.2")
    assert login_is_locked(username=member.username, address="10.0.0.1")
    other = AskerFactory()
    for _ in range(settings.LOGIN_FAILURE_LIMIT):
        login_record_failure(username=other.username, address="10.0.0.1")

    with django_capture_on_commit_callbacks(execute=True):
        response = confirm(uid_of(member), default_token_generator.make_token(member))

    assert response.status_code == 204
    assert not login_is_locked(username=member.username, address="10.0.0.1")
    assert not login_is_locked(username=member.username, address="10.0.0.2")
    assert login_is_locked(username=other.username, address="10.0.0.1")


# --- abuse ------------------------------------------------------------------------------------
def test_too_many_requests_from_one_address_get_429_with_a_stable_code(api, settings):
    settings.PASSWORD_RESET_RATE_LIMIT = 2
    client = api(None)
    for n in range(2):
        assert client.post("auth/password/reset", {"login": f"user-{n}"}).status_code == 202

    refused = client.post("auth/password/reset", {"login": "user-9"})

    assert refused.status_code == 429
    assert refused.json()["code"] == errors.ResetRequestsLimited.code == "reset_rate_limited"
    page = ask(Client(), "user-8", HTTP_ACCEPT_LANGUAGE="en")
    assert page.status_code == 429
    assert "Too many password reset requests" in page.content.decode()


def test_one_login_asked_from_many_addresses_is_limited_too(settings):
    settings.PASSWORD_RESET_RATE_LIMIT = 2
    answers = [
        ask(Client(), "nobody-here", REMOTE_ADDR=f"10.0.0.{n}").status_code for n in range(3)
    ]

    assert answers == [302, 302, 429]


def test_the_cap_per_account_sends_no_more_mail_and_still_answers_the_same(member, settings):
    settings.PASSWORD_RESET_MAILS_PER_ACCOUNT = 2
    logins = [member.username, member.email, member.username.upper(), member.email.upper()]
    answers = [
        ask(Client(), login, REMOTE_ADDR=f"10.0.1.{n}").status_code
        for n, login in enumerate(logins)
    ]

    assert answers == [302] * 4
    assert len(mails_asked(RESET)) == 2


# --- the e-mail on the account page ------------------------------------------------------------
def signed_in(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_the_account_page_takes_a_new_e_mail_with_the_password_pending_confirmation(member):
    client = signed_in(member)

    response = client.post(
        "/account/email/", {"email-email": " Wang@Example.CN ", "email-password": TEST_PASSWORD}
    )

    # the new address waits for its link; resets still go to the confirmed one
    assert response.status_code == 302
    member.refresh_from_db()
    assert (member.email, member.email_pending) == ("li.ming@example.cn", "Wang@example.cn")
    assert 'value="Wang@example.cn"' in client.get("/account/").content.decode()


@pytest.mark.parametrize(
    ("email", "password", "status", "code"),
    [
        ("not-an-address", TEST_PASSWORD, 422, "invalid_email"),
        ("TAKEN@example.cn", TEST_PASSWORD, 409, "email_taken"),
        ("free@example.cn", "wrong password", 422, "wrong_password"),
    ],
)
def test_a_refused_e_mail_changes_nothing(api, member, email, password, status, code):
    AskerFactory(email="taken@example.cn")

    response = api(member).post("auth/account/email", {"email": email, "password": password})

    assert response.status_code == status and response.json()["code"] == code
    member.refresh_from_db()
    assert (member.email, member.email_pending) == ("li.ming@example.cn", "")


def test_an_empty_e_mail_removes_it(api, member):
    response = api(member).post("auth/account/email", {"email": "", "password": TEST_PASSWORD})

    assert response.status_code == 200 and response.json()["email"] == ""


def test_registration_refuses_an_address_another_account_uses(api, member):
    response = api(None).post(
        "auth/register",
        {"username": "newcomer", "password": NEW_PASSWORD, "email": "LI.MING@example.cn"},
    )

    assert response.status_code == 409 and response.json()["code"] == "email_taken"
