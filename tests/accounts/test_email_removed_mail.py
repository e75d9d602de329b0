"""The security mail to a confirmed address the user removed (accounts.services.user_email_change
with "", accounts.account_mail.email_removed_mail_send): the address waits in the outbox row,
never in the task's arguments or the logs, and is erased from the row once sent."""

from __future__ import annotations

import logging
import re

import pytest
from django.test import Client

from accounts.models import AccountMail, User
from accounts.services import user_email_change
from accounts.tasks import account_mail_send_task
from tests.accounts.mails import run_mail_task, tasks_asked, wait_for_mail
from tests.factories import TEST_PASSWORD, AskerFactory

pytestmark = pytest.mark.django_db

REMOVED = AccountMail.Kind.EMAIL_REMOVED


@pytest.fixture
def member(db) -> User:
    return AskerFactory(email="li.ming@example.cn", phone="13912345678")


def remove(api, user: User):
    return api(user).post("auth/account/email", {"email": "", "password": TEST_PASSWORD})


def removed_mail() -> AccountMail:
    return AccountMail.objects.get(kind=REMOVED)


# --- with a real worker ----------------------------------------------------------------------
@pytest.mark.django_db(transaction=True)
def test_removing_the_address_on_the_account_page_tells_it_in_the_readers_language(
    celery_test_worker,
):
    # given a member with a confirmed address, signed in on the account page in English
    member = AskerFactory(email="li.ming@example.cn")
    browser = Client()
    browser.force_login(member)
    # when they save an empty address
    response = browser.post(
        "/account/email/",
        {"email-email": "", "email-password": TEST_PASSWORD},
        HTTP_ACCEPT_LANGUAGE="en",
    )
    assert response.status_code == 302
    # then the removed address is told, and what to do if it was not them
    (message,) = wait_for_mail()
    assert message.to == ["li.ming@example.cn"]
    assert message.subject == "The e-mail address was removed from your Lawline account"
    assert "This e-mail address was removed from your Lawline account" in message.body
    assert "change your password and set your own address again" in message.body
    assert "/account/" in message.body and "support@lawline.example" in message.body
    # and the row no longer holds the address, nor does the account
    row = removed_mail()
    assert (row.state, row.address) == (AccountMail.State.SENT, "")
    assert User.objects.get(pk=member.pk).email == ""


@pytest.mark.django_db(transaction=True)
def test_removing_it_through_the_api_tells_it_by_the_worker(api, celery_test_worker):
    member = AskerFactory(email="li.ming@example.cn")

    assert remove(api, member).status_code == 200

    (message,) = wait_for_mail()
    assert message.to == ["li.ming@example.cn"]
    assert message.subject == "您的律连账号邮箱已删除"


# --- when it is asked for, and with what ----------------------------------------------------
def test_the_address_waits_in_the_outbox_row_not_in_the_tasks_arguments(api, member, monkeypatch):
    queued = tasks_asked(monkeypatch, account_mail_send_task)

    assert remove(api, member).status_code == 200

    row = removed_mail()
    assert (row.user_id, row.language, row.address) == (member.pk, "zh-hans", "li.ming@example.cn")
    assert queued == [((row.pk,), {})]


def test_the_api_asks_for_it_in_the_language_of_the_request(member):
    client = Client()
    client.force_login(member)

    response = client.post(
        "/api/v1/auth/account/email",
        {"email": "", "password": TEST_PASSWORD},
        content_type="application/json",
        HTTP_ACCEPT_LANGUAGE="en",
    )

    assert response.status_code == 200
    assert removed_mail().language == "en"


def test_removing_with_a_wrong_password_tells_nobody_and_keeps_the_address(api, member):
    response = api(member).post("auth/account/email", {"email": "", "password": "not mine"})

    assert response.status_code == 422
    assert not AccountMail.objects.filter(kind=REMOVED).exists()
    assert User.objects.get(pk=member.pk).email == "li.ming@example.cn"


def test_withdrawing_only_a_pending_address_tells_nobody(api):
    member = AskerFactory(email="", email_pending="wang.fang@work.cn")

    assert remove(api, member).status_code == 200

    assert not AccountMail.objects.exists()


def test_typing_the_confirmed_address_again_tells_nobody(api, member):
    response = api(member).post(
        "auth/account/email", {"email": "li.ming@example.cn", "password": TEST_PASSWORD}
    )

    assert response.status_code == 200
    assert not AccountMail.objects.exists()


# --- the mail --------------------------------------------------------------------------------
def test_the_mail_in_chinese_says_what_to_do_and_offers_no_reset_link(api, member, mailoutbox):
    remove(api, member)

    run_mail_task(removed_mail())

    (message,) = mailoutbox
    assert message.to == ["li.ming@example.cn"]
    assert message.subject == "您的律连账号邮箱已删除"
    assert "本邮箱已从您的律连账号中删除，目前账号没有邮箱。" in message.body
    assert "修改密码，并在“我的账号”页面" in message.body
    assert "support@lawline.example" in message.body
    urls = re.findall(r"https?://[\w.:/-]+", message.body + message.alternatives[0][0])
    assert urls and all(url.endswith("/account/") for url in urls)


def test_the_mail_goes_to_the_removed_address_even_once_another_is_confirmed(
    api, member, mailoutbox
):
    remove(api, member)
    User.objects.filter(pk=member.pk).update(email="wang.fang@work.cn")

    run_mail_task(removed_mail())

    (message,) = mailoutbox
    assert message.to == ["li.ming@example.cn"]


def test_a_closed_account_is_not_mailed(api, member, mailoutbox):
    remove(api, member)
    User.objects.filter(pk=member.pk).update(is_active=False)

    run_mail_task(removed_mail())

    assert mailoutbox == []
    row = removed_mail()
    assert (row.state, row.address) == (AccountMail.State.DROPPED, "")


def test_a_redelivered_task_sends_one_notice(api, member, mailoutbox):
    remove(api, member)

    run_mail_task(removed_mail(), task_id="removed-once")
    run_mail_task(removed_mail(), task_id="removed-once")

    assert len(mailoutbox) == 1


def test_no_address_is_logged_from_removal_to_notice(member, caplog, mailoutbox):
    caplog.set_level(logging.DEBUG)

    user_email_change(user=member, email="", password=TEST_PASSWORD, address="127.0.0.1")
    run_mail_task(removed_mail())

    assert len(mailoutbox) == 1
    for secret in ("li.ming", "example.cn", member.phone):
        assert secret not in caplog.text
