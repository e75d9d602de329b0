"""A new e-mail address is confirmed by a link mailed to it (accounts.services.user_email_change,
email_confirm_resend, email_confirm; accounts.email_confirmation; accounts.tasks), on the account
page, the API and at registration."""

from __future__ import annotations

import logging
import re
import time

import pytest
from django.core import mail, signing
from django.test import Client

from accounts import errors
from accounts.email_confirmation import email_confirm_token_make
from accounts.models import AccountMail, User
from accounts.services import email_confirm, password_reset_request
from accounts.tasks import account_mail_send_task
from tests.accounts.mails import mails_asked, run_mail_task, tasks_asked, wait_for_mail
from tests.concurrency import run_at_once
from tests.factories import TEST_PASSWORD, AskerFactory

pytestmark = pytest.mark.django_db

CONFIRM_RE = re.compile(r"https?://[^/\s]+(?P<path>/accounts/email/confirm/(?P<token>[^/\s]+)/)")


@pytest.fixture
def member(db) -> User:
    return AskerFactory(email="li.ming@example.cn", phone="13912345678")


CONFIRM = AccountMail.Kind.EMAIL_CONFIRM
RESET = AccountMail.Kind.PASSWORD_RESET


def claim(api, user: User, email: str, language: str = ""):
    client = api(user)
    if language:
        client.headers["HTTP_ACCEPT_LANGUAGE"] = language
    return client.post("auth/account/email", {"email": email, "password": TEST_PASSWORD})


def last_mail(kind: str) -> AccountMail:
    return AccountMail.objects.filter(kind=kind).latest("pk")


def confirm(token: str):
    return Client().post(
        "/api/v1/auth/account/email/confirm", {"token": token}, content_type="application/json"
    )


def token_for(user: User) -> str:
    user.refresh_from_db()
    return email_confirm_token_make(user)


def code_of(response) -> str:
    return response.json()["code"]


# --- the whole flow, with the mail sent by a real worker --------------------------------------
@pytest.mark.django_db(transaction=True)
def test_a_new_address_is_used_only_once_the_link_mailed_to_it_is_opened(api, celery_test_worker):
    # given a member with a confirmed address
    member = AskerFactory(email="li.ming@example.cn")
    # when they set a new one through the API, in English
    response = api(member).post(
        "auth/account/email", {"email": "Li.Ming@Work.CN", "password": TEST_PASSWORD}
    )
    # then it waits, the old one still gets reset links, and the new one gets a link
    assert response.status_code == 200
    assert (response.json()["email"], response.json()["email_pending"]) == (
        "li.ming@example.cn",
        "Li.Ming@work.cn",
    )
    (message,) = wait_for_mail()
    assert message.to == ["Li.Ming@work.cn"]
    assert message.subject == "确认您在律连使用的电子邮箱"
    assert "24 小时内有效" in message.body
    html, mimetype = message.alternatives[0]
    assert mimetype == "text/html" and CONFIRM_RE.search(html)
    # when they open the link: a page with a button, which confirms nothing by itself
    path = CONFIRM_RE.search(message.body)["path"]  # type: ignore[index]
    browser = Client()
    opened = browser.get(path, HTTP_ACCEPT_LANGUAGE="en")
    assert opened.status_code == 200 and "Confirm this address" in opened.content.decode()
    assert "Li.Ming@work.cn" in opened.content.decode()
    member.refresh_from_db()
    assert member.email == "li.ming@example.cn"
    # and press it
    done = browser.post(path)
    # then the new address is the account's, and the link does not work twice
    assert done.status_code == 302 and done["Location"] == "/accounts/login/"
    member.refresh_from_db()
    assert (member.email, member.email_pending, member.email_pending_at) == (
        "Li.Ming@work.cn",
        "",
        None,
    )
    again = Client().get(path)
    assert again.status_code == 400 and 'data-code="email_link_invalid"' in again.content.decode()


# --- what a claim does and does not do --------------------------------------------------------
def test_the_confirmation_task_gets_the_outbox_rows_id_only(api, member, monkeypatch):
    queued = tasks_asked(monkeypatch, account_mail_send_task)

    claim(api, member, "li.ming@work.cn")

    row = last_mail(CONFIRM)
    assert (row.user_id, row.language, row.address) == (member.pk, "zh-hans", "")
    assert queued == [((row.pk,), {})]


def test_a_pending_address_gets_no_reset_link(member):
    # given a member whose only address is pending
    User.objects.filter(pk=member.pk).update(email="", email_pending="li.ming@work.cn")
    # when a reset is asked for by that address or by the username
    password_reset_request(login="li.ming@work.cn", address="10.0.0.1", language="en")
    password_reset_request(login=member.username, address="10.0.0.1", language="en")
    # then nothing is sent
    assert mails_asked(RESET) == []


def test_resets_go_to_the_confirmed_address_while_a_new_one_waits(api, member):
    claim(api, member, "li.ming@work.cn")

    password_reset_request(login="li.ming@work.cn", address="10.0.0.1", language="en")
    assert mails_asked(RESET) == []
    password_reset_request(login="li.ming@example.cn", address="10.0.0.1", language="en")
    run_mail_task(last_mail(RESET))

    assert len(mails_asked(RESET)) == 1
    assert mail.outbox[0].to == ["li.ming@example.cn"]


def test_someone_elses_unconfirmed_claim_never_blocks_the_owner(api, member):
    # given an intruder who typed the owner's new address first
    intruder = AskerFactory(email="")
    assert claim(api, intruder, "wang.fang@example.cn").status_code == 200
    intruder_token = token_for(intruder)
    # when the owner registers with it and confirms it
    owner = api(None).post(
        "auth/register",
        {"username": "wangfang", "password": "Lawline-owner-2026", "email": "Wang.Fang@example.cn"},
    )
    assert owner.status_code == 201
    owner_user = User.objects.get(pk=owner.json()["id"])
    assert confirm(token_for(owner_user)).status_code == 204
    # then it is the owner's, and the intruder's link (had they the mail) is refused
    owner_user.refresh_from_db()
    assert owner_user.email == "Wang.Fang@example.cn"
    response = confirm(intruder_token)
    assert response.status_code == 409 and code_of(response) == "email_taken"
    intruder.refresh_from_db()
    assert intruder.email == ""


def test_an_address_another_account_confirmed_is_taken(api, member):
    AskerFactory(email="taken@example.cn")

    response = claim(api, member, "TAKEN@example.cn")

    assert response.status_code == 409 and code_of(response) == "email_taken"


def test_registration_with_an_address_leaves_it_pending_and_mails_a_link():
    response = Client().post(
        "/api/v1/auth/register",
        {"username": "newcomer", "password": "Lawline-new-2026", "email": "new@example.cn"},
        content_type="application/json",
        HTTP_ACCEPT_LANGUAGE="en",
    )

    assert response.status_code == 201
    user = User.objects.get(username="newcomer")
    assert (user.email, user.email_pending) == ("", "new@example.cn")
    assert mails_asked(CONFIRM) == [(user.pk, "en")]


def test_typing_the_confirmed_address_again_withdraws_a_pending_claim(api, member):
    claim(api, member, "li.ming@work.cn")

    response = claim(api, member, "LI.MING@example.cn")

    assert response.status_code == 200 and response.json()["email_pending"] == ""
    assert len(mails_asked(CONFIRM)) == 1


def test_an_empty_address_removes_the_confirmed_and_the_pending_one(api, member):
    claim(api, member, "li.ming@work.cn")

    response = claim(api, member, "")

    assert (response.json()["email"], response.json()["email_pending"]) == ("", "")


# --- links that do not work --------------------------------------------------------------------
def test_an_expired_link_is_refused(api, member, monkeypatch):
    claim(api, member, "li.ming@work.cn")
    day_ago = int(time.time()) - 24 * 3600 - 1
    with monkeypatch.context() as patched:
        patched.setattr(
            signing.TimestampSigner, "timestamp", lambda self: signing.b62_encode(day_ago)
        )
        token = token_for(member)

    response = confirm(token)

    assert response.status_code == 400 and code_of(response) == "email_link_expired"
    member.refresh_from_db()
    assert member.email == "li.ming@example.cn"


def test_a_used_link_is_refused(api, member):
    claim(api, member, "li.ming@work.cn")
    token = token_for(member)
    assert confirm(token).status_code == 204

    response = confirm(token)

    assert response.status_code == 400 and code_of(response) == "email_link_invalid"


@pytest.mark.django_db(transaction=True)
def test_two_tabs_confirming_one_link_at_once_confirm_once(api):
    # given a claim and its link
    member = AskerFactory(email="")
    claim(api, member, "li.ming@work.cn")
    token = token_for(member)
    # when two requests use it at the same moment
    results = run_at_once([lambda: email_confirm(token=token)] * 2)
    # then one confirms and the other finds the link used
    confirmed = [r for r in results if isinstance(r, User)]
    refused = [r for r in results if isinstance(r, errors.EmailLinkInvalid)]
    assert (len(confirmed), len(refused)) == (1, 1), results
    member.refresh_from_db()
    assert (member.email, member.email_pending) == ("li.ming@work.cn", "")


@pytest.mark.parametrize("token", ["not-a-token", "", "eyJ1IjoxfQ:1abcde:forged"])
def test_a_made_up_link_is_refused(api, member, token):
    claim(api, member, "li.ming@work.cn")

    response = confirm(token)

    assert response.status_code == 400 and code_of(response) == "email_link_invalid"


def test_a_tampered_link_is_refused(api, member):
    claim(api, member, "li.ming@work.cn")
    token = token_for(member)
    tampered = token[:-2] + ("AA" if token[-2:] != "AA" else "BB")

    response = confirm(tampered)

    assert response.status_code == 400 and code_of(response) == "email_link_invalid"


def test_a_link_for_an_earlier_claim_cannot_confirm_a_later_one(api, member):
    # given a link for one address, then another address claimed
    claim(api, member, "first@example.cn")
    first_link = token_for(member)
    claim(api, member, "second@example.cn")
    # when the first link is opened
    response = confirm(first_link)
    # then it is refused and the second stays pending
    assert response.status_code == 400 and code_of(response) == "email_link_invalid"
    member.refresh_from_db()
    assert (member.email, member.email_pending) == ("li.ming@example.cn", "second@example.cn")


def test_a_link_for_the_same_address_claimed_again_is_refused(api, member):
    claim(api, member, "first@example.cn")
    old_link = token_for(member)
    claim(api, member, "")
    claim(api, member, "first@example.cn")

    assert code_of(confirm(old_link)) == "email_link_invalid"
    assert confirm(token_for(member)).status_code == 204


def test_the_page_of_an_expired_link_says_so(client, api, member, settings):
    claim(api, member, "li.ming@work.cn")
    token = token_for(member)
    settings.EMAIL_CONFIRM_TIMEOUT = -1

    response = client.get(f"/accounts/email/confirm/{token}/", HTTP_ACCEPT_LANGUAGE="en")

    page = response.content.decode()
    assert response.status_code == 400 and 'data-code="email_link_expired"' in page
    assert "This confirmation link has expired" in page


# --- sending again -----------------------------------------------------------------------------
def test_send_again_is_limited_per_hour(api, member, settings):
    settings.EMAIL_CONFIRM_MAILS_PER_HOUR = 3
    claim(api, member, "li.ming@work.cn")  # the first mail counts

    answers = [api(member).post("auth/account/email/resend") for _ in range(3)]

    assert [a.status_code for a in answers] == [202, 202, 429]
    assert code_of(answers[-1]) == "email_confirm_rate_limited"
    assert len(mails_asked(CONFIRM)) == 3


def test_claims_count_towards_the_same_limit(api, member, settings):
    settings.EMAIL_CONFIRM_MAILS_PER_HOUR = 2
    claim(api, member, "a@example.cn")
    claim(api, member, "b@example.cn")

    response = claim(api, member, "c@example.cn")

    assert response.status_code == 429 and code_of(response) == "email_confirm_rate_limited"
    member.refresh_from_db()
    assert member.email_pending == "b@example.cn"


def test_send_again_without_a_pending_address_is_refused(api, member):
    response = api(member).post("auth/account/email/resend")

    assert response.status_code == 409 and code_of(response) == "no_pending_email"


def test_send_again_keeps_earlier_links_working(api, member):
    claim(api, member, "li.ming@work.cn")
    first = token_for(member)
    api(member).post("auth/account/email/resend")

    assert confirm(first).status_code == 204


# --- the account page --------------------------------------------------------------------------
def test_the_account_page_shows_the_pending_address_and_sends_again(member):
    client = Client()
    client.force_login(member)
    client.post(
        "/account/email/", {"email-email": "li.ming@work.cn", "email-password": TEST_PASSWORD}
    )

    page = client.get("/account/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    resent = client.post("/account/email/resend/")

    assert "Waiting for confirmation" in page and "li.ming@work.cn" in page
    assert "li.ming@example.cn" in page  # still the confirmed one
    assert 'action="/account/email/resend/"' in page
    assert resent.status_code == 302 and len(mails_asked(CONFIRM)) == 2


def test_the_account_page_tells_the_resend_limit(member, settings):
    settings.EMAIL_CONFIRM_MAILS_PER_HOUR = 1
    client = Client()
    client.force_login(member)
    client.post(
        "/account/email/", {"email-email": "li.ming@work.cn", "email-password": TEST_PASSWORD}
    )

    response = client.post("/account/email/resend/", HTTP_ACCEPT_LANGUAGE="en")

    assert response.status_code == 429
    assert "Too many confirmation mails" in response.content.decode()


# --- the task ----------------------------------------------------------------------------------
def test_the_mail_goes_to_the_pending_address_in_the_users_language(api, member, mailoutbox):
    claim(api, member, "li.ming@work.cn", language="en")

    run_mail_task(last_mail(CONFIRM))

    (message,) = mailoutbox
    assert message.to == ["li.ming@work.cn"]
    assert message.subject == "Confirm your e-mail address for Lawline"
    assert "The link works for 24 hours." in message.body
    token = CONFIRM_RE.search(message.body)["token"]  # type: ignore[index]
    assert confirm(token).status_code == 204


def test_a_redelivered_confirmation_task_sends_no_second_mail(api, member, mailoutbox):
    claim(api, member, "li.ming@work.cn")

    run_mail_task(last_mail(CONFIRM), task_id="confirm-once")
    run_mail_task(last_mail(CONFIRM), task_id="confirm-once")

    assert len(mailoutbox) == 1


def test_a_task_for_a_claim_confirmed_or_withdrawn_since_sends_nothing(api, member, mailoutbox):
    claim(api, member, "li.ming@work.cn")
    claim(api, member, "li.ming@example.cn")

    run_mail_task(last_mail(CONFIRM))

    assert mailoutbox == []
    assert last_mail(CONFIRM).state == AccountMail.State.DROPPED


def test_no_address_or_token_is_logged_from_claim_to_confirmation(api, member, caplog, mailoutbox):
    caplog.set_level(logging.DEBUG)

    claim(api, member, "wang.fang@work.cn")
    run_mail_task(last_mail(CONFIRM))
    token = CONFIRM_RE.search(mailoutbox[0].body)["token"]  # type: ignore[index]
    assert confirm(token).status_code == 204

    for secret in ("wang.fang", "li.ming", member.phone, token):
        assert secret.lower() not in caplog.text.lower()
