"""The account page and its API: profile, password, API tokens and deleting the account."""

from __future__ import annotations

import html
import logging
from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone, translation

from accounts import errors
from accounts.models import ApiToken, User
from accounts.services import token_issue, user_delete
from marketplace.models import Consult, Offer, Question
from tests.factories import TEST_PASSWORD, AskerFactory, LawyerFactory, QuestionFactory
from tests.marketplace.factories import ConsultFactory, OfferFactory
from tests.qa.factories import AnswerFactory

pytestmark = pytest.mark.django_db

NEW_PASSWORD = "Lawline-new-pass-2026"


def signed_in_client(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


def bearer(user: User) -> str:
    return f"Bearer {token_issue(user=user, name='cli')[1]}"


# --- profile ----------------------------------------------------------------------------------
def test_profile_update_saves_names_and_the_phone_as_registration_stores_it(api, asker):
    # when
    response = api(asker).patch(
        "auth/account", {"first_name": " 建国 ", "last_name": "李", "phone": "139 1234-5678"}
    )
    # then
    assert response.status_code == 200
    assert response.json() | {"id": 0} == {
        "id": 0,
        "username": asker.username,
        "role": "asker",
        "first_name": "建国",
        "last_name": "李",
        "phone": "13912345678",
        "email": "",
        "email_pending": "",
    }
    asker.refresh_from_db()
    assert (asker.display_name, asker.phone) == ("李建国", "13912345678")


def test_profile_fields_left_out_stay_and_an_empty_phone_removes_it(api, asker):
    # given
    asker.first_name = "Ada"
    asker.save()
    # when
    response = api(asker).patch("auth/account", {"phone": ""})
    # then
    assert response.status_code == 200
    asker.refresh_from_db()
    assert (asker.first_name, asker.phone) == ("Ada", "")


def test_every_wrong_profile_field_is_told_at_once_and_nothing_is_saved(api, asker):
    # given
    phone_before = asker.phone
    # when
    response = api(asker).patch(
        "auth/account", {"first_name": "x" * 151, "last_name": "Li", "phone": "12345"}
    )
    # then
    assert response.status_code == 422
    body = response.json()
    assert body["code"] == errors.InvalidName.code
    assert set(body["fields"]) == {"first_name", "phone"}
    assert body["fields"]["phone"] == str(errors.InvalidPhone.message)
    asker.refresh_from_db()
    assert (asker.last_name, asker.phone) == ("", phone_before)


def test_a_phone_number_is_never_logged(api, asker, caplog):
    # when a good number and a bad one are sent
    with caplog.at_level(logging.DEBUG):
        api(asker).patch("auth/account", {"phone": "13987654321"})
        api(asker).patch("auth/account", {"phone": "1398765432199"})
    # then neither shows up in any log line
    assert "13987654321" not in caplog.text


def test_account_shows_the_users_own_details(api, asker):
    response = api(asker).get("auth/account")
    assert response.status_code == 200
    assert response.json()["phone"] == asker.phone


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("get", "auth/account"),
        ("patch", "auth/account"),
        ("post", "auth/password"),
        ("get", "auth/tokens"),
        ("post", "auth/account/delete"),
    ],
)
def test_the_account_api_needs_a_signed_in_user(api, method, path):
    response = getattr(api(None), method)(path)
    assert response.status_code == 401
    assert response.json()["code"] == "not_authenticated"


@pytest.mark.parametrize(
    ("path", "body"),
    [
        ("auth/account", {"phone": 13912345678}),
        ("auth/password", {"current_password": TEST_PASSWORD}),
        ("auth/account/delete", {"confirm": True}),
    ],
)
def test_malformed_account_bodies_get_invalid_not_500(api, asker, path, body):
    client = api(asker)
    method = client.patch if path == "auth/account" else client.post
    response = method(path, body)
    assert response.status_code == 422
    assert response.json()["code"] == "invalid"


# --- password ---------------------------------------------------------------------------------
def test_password_change_needs_the_current_password(api, asker):
    # when
    response = api(asker).post(
        "auth/password", {"current_password": TEST_PASSWORD, "new_password": NEW_PASSWORD}
    )
    # then
    assert response.status_code == 204
    asker.refresh_from_db()
    assert asker.check_password(NEW_PASSWORD)


def test_a_wrong_current_password_changes_nothing(api, asker):
    # when
    response = api(asker).post(
        "auth/password", {"current_password": "not-my-password", "new_password": NEW_PASSWORD}
    )
    # then
    assert response.status_code == 422
    body = response.json()
    assert body["code"] == errors.WrongPassword.code
    assert set(body["fields"]) == {"current_password"}
    asker.refresh_from_db()
    assert asker.check_password(TEST_PASSWORD)


def test_a_weak_new_password_is_refused_by_djangos_validators(api, asker):
    response = api(asker).post(
        "auth/password", {"current_password": TEST_PASSWORD, "new_password": "12345678"}
    )
    assert response.status_code == 422
    body = response.json()
    assert body["code"] == errors.WeakPassword.code
    assert set(body["fields"]) == {"new_password"}


def test_wrong_passwords_lock_out_with_the_same_counter_as_sign_in(api, asker, settings):
    # given
    settings.LOGIN_FAILURE_LIMIT = 3
    client = api(asker)
    wrong = {"current_password": "guess-1", "new_password": NEW_PASSWORD}
    # when two guesses on the account page are followed by a third
    for _ in range(2):
        assert client.post("auth/password", wrong).status_code == 422
    third = client.post("auth/password", wrong)
    # then the third locks, the right password too, and the sign-in form is locked as well
    assert third.status_code == 429
    assert third.json()["code"] == errors.PasswordChecksLocked.code
    right = {"current_password": TEST_PASSWORD, "new_password": NEW_PASSWORD}
    assert client.post("auth/password", right).status_code == 429
    sign_in = api(None).post("auth/token", {"username": asker.username, "password": TEST_PASSWORD})
    assert sign_in.status_code == 429


def test_changing_the_password_keeps_this_session_and_ends_the_others(asker):
    # given the same person signed in on two devices
    this_device, other_device = signed_in_client(asker), signed_in_client(asker)
    # when they change the password on one
    response = this_device.post(
        "/account/password/",
        {"current_password": TEST_PASSWORD, "new_password": NEW_PASSWORD},
    )
    # then that one stays signed in and the other is signed out
    assert response.status_code == 302 and response["Location"] == "/account/"
    assert this_device.get("/api/v1/auth/me").status_code == 200
    assert other_device.get("/api/v1/auth/me").status_code == 401


def test_changing_the_password_through_the_api_keeps_the_session(asker):
    client = signed_in_client(asker)
    response = client.post(
        "/api/v1/auth/password",
        {"current_password": TEST_PASSWORD, "new_password": NEW_PASSWORD},
        content_type="application/json",
    )
    assert response.status_code == 204
    assert client.get("/api/v1/auth/me").status_code == 200


# --- API tokens -------------------------------------------------------------------------------
def test_tokens_lists_only_the_users_live_tokens_without_their_secret(
    asker, other_asker, django_assert_num_queries
):
    # given a live token, a revoked one and someone else's
    live, raw = token_issue(user=asker, name="my laptop")
    revoked, _ = token_issue(user=asker, name="old phone")
    revoked.revoked_at = timezone.now()
    revoked.save()
    token_issue(user=other_asker, name="theirs")
    # when (the bearer lookup, its last-used stamp, the list)
    client = Client()
    with django_assert_num_queries(3):
        response = client.get("/api/v1/auth/tokens", HTTP_AUTHORIZATION=f"Bearer {raw}")
    # then
    assert response.status_code == 200
    (row,) = response.json()
    assert row["id"] == live.pk and row["name"] == "my laptop"
    assert row["prefix"] == raw[3:11] and raw not in str(row)
    assert row["last_used_at"] is not None
    assert set(row) == {"id", "prefix", "name", "created_at", "last_used_at"}


def test_revoking_a_token_on_the_page_stops_it_and_leaves_others_alone(asker, other_asker):
    # given
    mine, raw = token_issue(user=asker, name="cli")
    theirs, their_raw = token_issue(user=other_asker)
    client = signed_in_client(asker)
    # when they revoke their own and try someone else's
    response = client.post(f"/account/tokens/{mine.pk}/revoke/")
    client.post(f"/account/tokens/{theirs.pk}/revoke/")
    # then only theirs still signs in
    assert response.status_code == 302
    assert Client().get("/api/v1/auth/me", HTTP_AUTHORIZATION=f"Bearer {raw}").status_code == 401
    other = Client().get("/api/v1/auth/me", HTTP_AUTHORIZATION=f"Bearer {their_raw}")
    assert other.status_code == 200


# --- deleting the account ---------------------------------------------------------------------
def delete(user: User, *, password: str = TEST_PASSWORD, confirm: bool = True):
    return Client().post(
        "/api/v1/auth/account/delete",
        {"password": password, "confirm": confirm},
        content_type="application/json",
        HTTP_AUTHORIZATION=bearer(user),
    )


def test_deleting_scrubs_the_person_and_keeps_the_records(asker):
    # given an asker with a finished consult, a public question and a second device
    question = QuestionFactory(asker=asker, is_anonymous=False)
    consult = ConsultFactory(asker=asker, question=question, state=Consult.State.RESOLVED)
    other_device = signed_in_client(asker)
    asker.first_name, asker.last_name, asker.email = "建国", "李", "li@example.com"
    asker.email_pending = "li@work.example.com"
    asker.save()
    # when
    response = delete(asker)
    # then the person is gone from the row, which stays for the consult
    assert response.status_code == 204
    asker.refresh_from_db()
    assert asker.username == f"~deleted-{asker.pk}"
    assert (asker.first_name, asker.last_name, asker.phone, asker.email) == ("", "", "", "")
    assert asker.email_pending == ""
    assert not asker.is_active and not asker.has_usable_password()
    assert Consult.objects.get(pk=consult.pk).asker_id == asker.pk
    # their public question stays, anonymous
    assert Question.objects.get(pk=question.pk).is_anonymous
    # no token, session or sign-in works any more
    assert not ApiToken.objects.filter(user=asker, revoked_at__isnull=True).exists()
    assert other_device.get("/api/v1/auth/me").status_code == 401
    assert not Client().login(username=asker.username, password=TEST_PASSWORD)


def test_deleting_through_the_page_signs_out_and_goes_home(asker):
    client = signed_in_client(asker)
    response = client.post(
        "/account/delete/", {"delete-password": TEST_PASSWORD, "delete-confirm": "on"}
    )
    assert response.status_code == 302 and response["Location"] == "/"
    assert client.get("/api/v1/auth/me").status_code == 401
    assert "您的账号已删除" in client.get("/").content.decode()


@pytest.mark.parametrize("state", sorted(Consult.State))
def test_an_unfinished_consult_blocks_deletion_for_the_asker(api, asker, state):
    # given
    ConsultFactory(question=QuestionFactory(asker=asker), state=state)
    # when
    response = delete(asker)
    # then only consults that are over let it through
    open_states = {"pending_payment", "queued", "offered", "active"}
    if state in open_states:
        assert response.status_code == 409
        assert response.json()["code"] == errors.AccountHasOpenConsult.code
        assert User.objects.get(pk=asker.pk).is_active
    else:
        assert response.status_code == 204


def test_a_lawyers_active_chat_blocks_deletion(lawyer):
    ConsultFactory(lawyer=lawyer, state=Consult.State.ACTIVE)
    response = delete(lawyer)
    assert response.status_code == 409
    assert response.json()["code"] == errors.AccountHasOpenConsult.code


def test_a_lawyers_live_offer_blocks_deletion_and_a_lapsed_one_does_not(lawyer):
    # given a live offer
    offer = OfferFactory(lawyer=lawyer)
    # then
    response = delete(lawyer)
    assert response.status_code == 409
    assert response.json()["code"] == errors.AccountHasLiveOffers.code
    # given its time ran out (beat has not marked it expired yet)
    Offer.objects.filter(pk=offer.pk).update(expires_at=timezone.now() - timedelta(seconds=1))
    Consult.objects.filter(pk=offer.consult_id).update(state=Consult.State.EXPIRED)
    # then
    assert delete(lawyer).status_code == 204


def test_a_deleted_lawyers_public_answers_stay_under_former_user(lawyer):
    # given a published answer
    answer = AnswerFactory(lawyer=lawyer)
    # when
    user_delete(user=lawyer, password=TEST_PASSWORD, confirmed=True, address="127.0.0.1")
    # then
    answer.refresh_from_db()
    with translation.override("zh-hans"):
        assert answer.lawyer.display_name == "已注销用户"
    with translation.override("en"):
        assert answer.lawyer.display_name == "Former user"


@pytest.mark.parametrize(
    ("password", "confirm", "status", "code"),
    [
        (TEST_PASSWORD, False, 422, errors.DeletionNotConfirmed.code),
        ("not-my-password", True, 422, errors.WrongPassword.code),
    ],
)
def test_deletion_needs_the_password_and_a_confirmation(asker, password, confirm, status, code):
    response = delete(asker, password=password, confirm=confirm)
    assert response.status_code == status
    assert response.json()["code"] == code
    assert User.objects.get(pk=asker.pk).is_active


def test_staff_cannot_delete_their_own_account(staff):
    response = delete(staff)
    assert response.status_code == 403
    assert response.json()["code"] == errors.StaffCannotSelfDelete.code


# --- the page ---------------------------------------------------------------------------------
def test_the_account_page_asks_a_visitor_to_sign_in(client):
    response = client.get("/account/")
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/?next=/account/")


def test_every_signed_in_user_finds_the_account_page_in_the_header(
    asker, django_assert_num_queries
):
    # given
    token_issue(user=asker, name="my laptop")
    client = signed_in_client(asker)
    # when (session, user, unread notices, tokens)
    with django_assert_num_queries(4):
        response = client.get("/account/")
    # then
    page = response.content.decode()
    assert response.status_code == 200
    assert '<a href="/account/" aria-current="page">我的账号</a>' in page
    assert "my laptop" in page and 'value="' + asker.phone + '"' in page


@pytest.mark.parametrize("factory", [AskerFactory, LawyerFactory])
def test_the_header_links_the_account_page_on_other_pages(factory):
    page = signed_in_client(factory()).get("/questions/").content.decode()
    assert '<a href="/account/">我的账号</a>' in page


def test_a_bad_phone_on_the_page_is_shown_beside_the_field_with_422(asker):
    client = signed_in_client(asker)
    response = client.post("/account/profile/", {"first_name": "建国", "phone": "12345"})
    page = html.unescape(response.content.decode())
    assert response.status_code == 422
    assert "请输入中国大陆手机号" in page
    assert 'value="建国"' in page  # what they typed is kept


def test_a_wrong_current_password_on_the_page_answers_422_with_the_message(asker):
    client = signed_in_client(asker)
    response = client.post(
        "/account/password/", {"current_password": "nope", "new_password": NEW_PASSWORD}
    )
    assert response.status_code == 422
    assert "当前密码不正确" in response.content.decode()


def test_a_too_short_new_password_is_refused_in_chinese_on_the_page(asker):
    # given a Chinese page (the default language)
    client = signed_in_client(asker)
    # when the new password is shorter than Django's minimum
    response = client.post(
        "/account/password/", {"current_password": TEST_PASSWORD, "new_password": "q7%Lw"}
    )
    # then the validator's refusal is in Chinese, not Django 5.2's untranslated English
    page = response.content.decode()
    assert response.status_code == 422
    assert "密码太短，至少需要 8 个字符。" in page
    assert "too short" not in page


@pytest.mark.parametrize(
    ("factory", "says", "not_said"),
    [
        (LawyerFactory, "您已发布的公开回答将以“已注销用户”的名义保留", "您公开的问题将匿名保留"),
        (AskerFactory, "您公开的问题将匿名保留", "已注销用户"),
    ],
)
def test_the_delete_section_says_what_stays_of_a_lawyer_and_of_an_asker(factory, says, not_said):
    # when a lawyer or an asker reads what deleting the account does
    page = html.unescape(signed_in_client(factory()).get("/account/").content.decode())
    # then each is told about what they published: a lawyer's answers, an asker's questions
    assert says in page and not_said not in page


def test_two_refusals_of_a_new_password_read_as_two_chinese_sentences(asker):
    # when the new password is both too short and too common
    response = signed_in_client(asker).post(
        "/account/password/", {"current_password": TEST_PASSWORD, "new_password": "abc"}
    )
    # then the refusals follow each other as Chinese sentences do, with no space between
    assert "密码太短，至少需要 8 个字符。这个密码太常见了。" in response.content.decode()


def test_deleting_without_the_box_ticked_re_renders_the_page(asker):
    client = signed_in_client(asker)
    response = client.post("/account/delete/", {"delete-password": TEST_PASSWORD})
    assert response.status_code == 422
    assert "请勾选确认" in response.content.decode()
    assert User.objects.get(pk=asker.pk).is_active


def test_an_open_consult_on_the_page_answers_409_with_the_reason(asker):
    ConsultFactory(question=QuestionFactory(asker=asker), state=Consult.State.ACTIVE)
    client = signed_in_client(asker)
    response = client.post(
        "/account/delete/", {"delete-password": TEST_PASSWORD, "delete-confirm": "on"}
    )
    assert response.status_code == 409
    assert "您有尚未结束的咨询" in response.content.decode()


def test_a_deleted_lawyers_answer_stays_on_the_question_page_without_their_name_or_links(
    client, lawyer
):
    # given a lawyer with a firm and a published answer
    from marketplace.models import LawyerProfile
    from tests.factories import LawyerProfileFactory

    LawyerProfileFactory(user=lawyer, firm="济宁明理律师事务所")
    lawyer.last_name = "李"
    lawyer.save()
    answer = AnswerFactory(lawyer=lawyer)
    # when they delete their account
    user_delete(user=lawyer, password=TEST_PASSWORD, confirmed=True, address="127.0.0.1")
    # then the answer is still read, by a former user, with no way to reach or consult them
    page = client.get(f"/questions/{answer.question_id}/").content.decode()
    assert answer.body[:20] in page
    assert "已注销用户" in page
    assert f"/lawyers/{lawyer.pk}/" not in page and f"?lawyer={lawyer.pk}" not in page
    assert "济宁明理律师事务所" not in page
    assert LawyerProfile.objects.get(user=lawyer).license_number  # kept for staff


@pytest.mark.parametrize(
    ("language", "never", "used"),
    [("en", "Never used", "Last used "), ("zh-hans", "从未使用", "最近使用 ")],
)
def test_a_token_never_used_says_so_in_a_phrase_of_its_own(asker, language, never, used):
    # given one token never used and one used
    token_issue(user=asker, name="unused")
    used_token, _ = token_issue(user=asker, name="used")
    ApiToken.objects.filter(pk=used_token.pk).update(last_used_at=timezone.now())
    # when the owner reads the account page
    page = signed_in_client(asker).get("/account/", HTTP_ACCEPT_LANGUAGE=language).content.decode()
    # then the unused one reads "Never used", not "Last used Never"
    assert page.count(never) == 1
    assert page.count(used) == 1
    assert "Last used Never" not in page and "最近使用 从未使用" not in page
