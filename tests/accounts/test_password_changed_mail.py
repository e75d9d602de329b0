"""The security mail after a password change (account page, API) or a reset
(accounts.services._password_changed_mail_queue, through the outbox of accounts.outbox)."""

from __future__ import annotations

import logging
import re

import pytest
from django.contrib.auth.tokens import default_token_generator
from django.test import Client
from django.utils import timezone
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode

from accounts.models import AccountMail, User
from accounts.services import token_issue
from accounts.tasks import account_mail_send_task
from tests.accounts.mails import mail_row, mails_asked, run_mail_task, tasks_asked, wait_for_mail
from tests.factories import TEST_PASSWORD, AskerFactory

pytestmark = pytest.mark.django_db

NEW_PASSWORD = "Lawline-changed-2026"


@pytest.fixture
def member(db) -> User:
    return AskerFactory(email="li.ming@example.cn", phone="13912345678")


CHANGED = AccountMail.Kind.PASSWORD_CHANGED


def notices() -> list[tuple[int, str]]:
    """The password-changed mails asked for: (user id, language) of each outbox row."""
    return mails_asked(CHANGED)


def change(api, user: User, current: str = TEST_PASSWORD):
    return api(user).post(
        "auth/password", {"current_password": current, "new_password": NEW_PASSWORD}
    )


def reset(user: User, **headers):
    uid = urlsafe_base64_encode(force_bytes(user.pk))
    return Client().post(
        "/api/v1/auth/password/reset/confirm",
        {
            "uid": uid,
            "token": default_token_generator.make_token(user),
            "new_password": NEW_PASSWORD,
        },
        content_type="application/json",
        **headers,
    )


# --- with a real worker ----------------------------------------------------------------------
@pytest.mark.django_db(transaction=True)
def test_a_reset_is_followed_by_a_security_mail_to_the_confirmed_address(celery_test_worker):
    member = AskerFactory(email="li.ming@example.cn")

    assert reset(member).status_code == 204

    (message,) = wait_for_mail()
    assert message.to == ["li.ming@example.cn"]
    assert message.subject == "您的律连密码已修改"
    assert "（北京时间）" in message.body and "support@lawline.example" in message.body


@pytest.mark.django_db(transaction=True)
def test_a_change_on_the_account_page_is_followed_by_a_security_mail(celery_test_worker):
    member = AskerFactory(email="li.ming@example.cn")
    client = Client()
    client.force_login(member)

    response = client.post(
        "/account/password/",
        {"current_password": TEST_PASSWORD, "new_password": NEW_PASSWORD},
        HTTP_ACCEPT_LANGUAGE="en",
    )

    assert response.status_code == 302
    (message,) = wait_for_mail()
    assert message.to == ["li.ming@example.cn"]
    assert message.subject == "Your Lawline password was changed"


# --- when it is sent, and with what --------------------------------------------------------
def test_the_api_change_asks_for_the_mail_with_the_outbox_rows_id_only(api, member, monkeypatch):
    queued = tasks_asked(monkeypatch, account_mail_send_task)

    assert change(api, member).status_code == 204

    (row,) = AccountMail.objects.filter(kind=CHANGED)
    assert (row.user_id, row.language, row.address) == (member.pk, "zh-hans", "")
    assert queued == [((row.pk,), {})]


def test_a_reset_asks_for_the_mail_in_the_language_of_the_request(member):
    assert reset(member, HTTP_ACCEPT_LANGUAGE="en").status_code == 204

    assert notices() == [(member.pk, "en")]


def test_a_refused_change_sends_nothing(api, member):
    assert change(api, member, current="not my password").status_code == 422

    assert notices() == []


@pytest.mark.parametrize("pending", ["", "li.ming@work.cn"])
def test_no_mail_without_a_confirmed_address(api, pending):
    member = AskerFactory(email="", email_pending=pending)

    assert change(api, member).status_code == 204

    assert notices() == []


def test_the_mail_says_when_and_what_to_do_and_holds_no_link_that_signs_in(api, member, mailoutbox):
    change(api, member)
    member.refresh_from_db()

    run_mail_task(mail_row(member, CHANGED, "en"))

    (message,) = mailoutbox
    assert message.subject == "Your Lawline password was changed"
    when = timezone.localtime(member.password_changed_at).strftime("%Y-%m-%d %H:%M")
    assert when in message.body
    assert "(China time)" in message.body and "support@lawline.example" in message.body
    urls = re.findall(r"https?://\S+", message.body + message.alternatives[0][0])
    assert urls and all(url.rstrip(").,").endswith("/accounts/password/reset/") for url in urls)


def test_a_redelivered_notice_task_sends_no_second_mail(member, mailoutbox):
    row = mail_row(member, CHANGED)
    run_mail_task(row, task_id="notice-once")
    run_mail_task(row, task_id="notice-once")

    assert len(mailoutbox) == 1


def test_a_failing_mail_server_is_retried_and_the_address_never_logged(
    member, mailoutbox, monkeypatch, caplog
):
    from accounts import account_mail

    caplog.set_level(logging.DEBUG)
    send = account_mail.password_changed_mail_send
    failures = [ConnectionRefusedError(f"smtp down while sending to {member.email}")]

    def flaky(**kwargs):
        if failures:
            raise failures.pop()
        send(**kwargs)

    monkeypatch.setattr(account_mail, "password_changed_mail_send", flaky)

    run_mail_task(mail_row(member, CHANGED))

    assert failures == [] and len(mailoutbox) == 1
    assert "ConnectionRefusedError" in caplog.text
    assert "li.ming" not in caplog.text and member.phone not in caplog.text


# --- the API tokens the change revoked --------------------------------------------------------
TOKENS_EN = "API tokens were revoked: the apps that used them must sign in again"
TOKENS_ZH = "个 API 令牌，相关应用需用新密码重新登录。"


@pytest.mark.django_db(transaction=True)
def test_a_reset_that_revoked_tokens_says_how_many_in_the_mail(celery_test_worker):
    # given a member with two API tokens
    member = AskerFactory(email="li.ming@example.cn")
    token_issue(user=member, name="cli")
    token_issue(user=member, name="phone")
    # when the password is reset, in English
    assert reset(member, HTTP_ACCEPT_LANGUAGE="en").status_code == 204
    # then the worker's mail says both tokens went, and what that means
    (message,) = wait_for_mail()
    assert f"2 {TOKENS_EN} with the new password." in message.body
    assert f"2 {TOKENS_EN}" in message.alternatives[0][0]


def test_an_api_change_keeps_the_count_in_the_outbox_row_not_the_tasks_arguments(
    member, monkeypatch
):
    # given the token an app changes the password with, and two others
    _caller, raw = token_issue(user=member, name="cli")
    token_issue(user=member, name="laptop")
    token_issue(user=member, name="phone")
    queued = tasks_asked(monkeypatch, account_mail_send_task)
    # when the app changes the password
    response = Client().post(
        "/api/v1/auth/password",
        {"current_password": TEST_PASSWORD, "new_password": NEW_PASSWORD},
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {raw}",
    )
    # then the row holds the two revoked (the caller's kept), and the task the row's id only
    assert response.status_code == 204
    (row,) = AccountMail.objects.filter(kind=CHANGED)
    assert row.tokens_revoked == 2
    assert queued == [((row.pk,), {})]


def test_a_change_without_tokens_asks_for_a_mail_that_names_none(api, member):
    assert change(api, member).status_code == 204  # with the caller's own token, which it keeps

    assert AccountMail.objects.get(kind=CHANGED).tokens_revoked == 0


@pytest.mark.parametrize(
    ("language", "count", "said"),
    [
        ("zh-hans", 3, f"已撤销 3 {TOKENS_ZH}"),
        ("en", 3, f"3 {TOKENS_EN} with the new password."),
        ("en", 1, "1 API token was revoked: the app that used it must sign in again with the new"),
    ],
)
def test_the_mail_says_how_many_tokens_went(member, mailoutbox, language, count, said):
    row = mail_row(member, CHANGED, language)
    AccountMail.objects.filter(pk=row.pk).update(tokens_revoked=count)

    run_mail_task(row)

    (message,) = mailoutbox
    assert said in message.body
    assert said in message.alternatives[0][0]


@pytest.mark.parametrize("language", ["zh-hans", "en"])
def test_without_revoked_tokens_the_mail_says_nothing_of_them(member, mailoutbox, language):
    run_mail_task(mail_row(member, CHANGED, language))

    (message,) = mailoutbox
    for text in (message.body, message.alternatives[0][0]):
        assert "API" not in text and "令牌" not in text
