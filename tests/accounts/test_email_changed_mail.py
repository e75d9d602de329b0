"""The security mail to the previous address once a new one is confirmed
(accounts.services.email_confirm, accounts.account_mail.email_changed_mail_send): the address
waits in the outbox row, never in the task's arguments or the logs."""

from __future__ import annotations

import logging
import re

import pytest
from django.test import Client

from accounts.email_confirmation import email_confirm_token_make
from accounts.models import AccountMail, User
from accounts.services import email_confirm
from accounts.tasks import account_mail_send_task
from billing.masking import mask_email
from tests.accounts.mails import run_mail_task, tasks_asked, wait_for_mail
from tests.factories import TEST_PASSWORD, AskerFactory

pytestmark = pytest.mark.django_db

CHANGED = AccountMail.Kind.EMAIL_CHANGED
CONFIRM_RE = re.compile(r"https?://[^/\s]+(?P<path>/accounts/email/confirm/[^/\s]+/)")


@pytest.fixture
def member(db) -> User:
    return AskerFactory(email="li.ming@example.cn", phone="13912345678")


def claim(api, user: User, email: str):
    return api(user).post("auth/account/email", {"email": email, "password": TEST_PASSWORD})


def confirm_now(user: User, language: str = "zh-hans") -> User:
    """Confirm the user's pending address as its link would."""
    user.refresh_from_db()
    return email_confirm(token=email_confirm_token_make(user), language=language)


def changed_mail() -> AccountMail:
    return AccountMail.objects.get(kind=CHANGED)


# --- with a real worker ----------------------------------------------------------------------
@pytest.mark.django_db(transaction=True)
def test_confirming_a_new_address_tells_the_old_one_in_the_readers_language(
    api, celery_test_worker
):
    # given a member with a confirmed address who asked for a new one
    member = AskerFactory(email="li.ming@example.cn")
    assert claim(api, member, "wang.fang@work.cn").status_code == 200
    (link_mail,) = wait_for_mail()
    path = CONFIRM_RE.search(link_mail.body)["path"]  # type: ignore[index]
    # when the link's page is confirmed, in English
    done = Client().post(path, HTTP_ACCEPT_LANGUAGE="en")
    assert done.status_code == 302
    # then the old address is told, with the new one masked, and what to do
    _, message = wait_for_mail(2)
    assert message.to == ["li.ming@example.cn"]
    assert message.subject == "Your Lawline e-mail address was changed"
    assert "was changed to w***@work.cn" in message.body
    assert "wang.fang" not in message.body and "wang.fang" not in message.alternatives[0][0]
    assert "/account/" in message.body and "support@lawline.example" in message.body
    # and the row no longer holds the old address
    row = changed_mail()
    assert (row.state, row.address) == (AccountMail.State.SENT, "")


# --- when it is asked for, and with what ----------------------------------------------------
def test_the_old_address_waits_in_the_outbox_row_not_in_the_tasks_arguments(
    api, member, monkeypatch
):
    claim(api, member, "wang.fang@work.cn")
    queued = tasks_asked(monkeypatch, account_mail_send_task)

    confirm_now(member, language="en")

    row = changed_mail()
    assert (row.user_id, row.language, row.address) == (member.pk, "en", "li.ming@example.cn")
    assert queued == [((row.pk,), {})]


def test_a_first_address_confirmed_tells_nobody(api):
    member = AskerFactory(email="")
    claim(api, member, "wang.fang@work.cn")

    confirm_now(member)

    assert not AccountMail.objects.filter(kind=CHANGED).exists()


def test_a_refused_confirmation_tells_nobody(api, member):
    claim(api, member, "taken@example.cn")
    AskerFactory(email="taken@example.cn")  # another account confirmed it meanwhile

    response = Client().post(
        "/api/v1/auth/account/email/confirm",
        {"token": email_confirm_token_make(User.objects.get(pk=member.pk))},
        content_type="application/json",
    )

    assert response.status_code == 409
    assert not AccountMail.objects.filter(kind=CHANGED).exists()


def test_the_api_confirmation_asks_for_it_in_the_language_of_the_request(api, member):
    claim(api, member, "wang.fang@work.cn")
    member.refresh_from_db()

    response = Client().post(
        "/api/v1/auth/account/email/confirm",
        {"token": email_confirm_token_make(member)},
        content_type="application/json",
        HTTP_ACCEPT_LANGUAGE="en",
    )

    assert response.status_code == 204
    assert changed_mail().language == "en"


# --- the mail --------------------------------------------------------------------------------
def test_the_mail_in_chinese_names_the_new_address_masked_and_offers_no_reset_link(
    api, member, mailoutbox
):
    claim(api, member, "wang.fang@work.cn")
    confirm_now(member)

    run_mail_task(changed_mail())

    (message,) = mailoutbox
    assert message.to == ["li.ming@example.cn"]
    assert message.subject == "您的律连邮箱已更改"
    assert "您的律连账号邮箱已更改为 w***@work.cn。" in message.body
    assert "support@lawline.example" in message.body
    urls = re.findall(r"https?://[\w.:/-]+", message.body + message.alternatives[0][0])
    assert urls and all(url.endswith("/account/") for url in urls)


def test_an_address_removed_before_the_mail_goes_is_told_as_none(api, member, mailoutbox):
    claim(api, member, "wang.fang@work.cn")
    confirm_now(member)
    User.objects.filter(pk=member.pk).update(email="")

    run_mail_task(changed_mail())

    (message,) = mailoutbox
    assert message.to == ["li.ming@example.cn"]
    assert "账号没有邮箱" in message.body and "***" not in message.body


def test_a_redelivered_task_sends_one_notice(api, member, mailoutbox):
    claim(api, member, "wang.fang@work.cn")
    confirm_now(member)

    run_mail_task(changed_mail(), task_id="changed-once")
    run_mail_task(changed_mail(), task_id="changed-once")

    assert len(mailoutbox) == 1


def test_no_address_is_logged_from_claim_to_notice(api, member, caplog, mailoutbox):
    caplog.set_level(logging.DEBUG)

    claim(api, member, "wang.fang@work.cn")
    confirm_now(member)
    run_mail_task(changed_mail())

    assert len(mailoutbox) == 1
    for secret in ("wang.fang", "li.ming", "w***@work.cn", member.phone):
        assert secret not in caplog.text


@pytest.mark.parametrize(
    ("address", "masked"),
    [("wang.fang@work.cn", "w***@work.cn"), ("x@example.com", "x***@example.com"), ("", "")],
)
def test_an_address_is_masked_to_its_first_letter_and_domain(address, masked):
    assert mask_email(address) == masked
