"""The ask page (/ask/): a question and, unless only posted publicly, a consult at once. The
lawyer's profile page (/workbench/profile/): the profile and its licence sent for review."""

from __future__ import annotations

import html
import re

import pytest
from django.test import Client
from django.utils import translation

from marketplace import errors, services
from marketplace.models import Consult, LawyerProfile, Question, Region
from tests.factories import TEST_PASSWORD, LawyerProfileFactory, city

pytestmark = pytest.mark.django_db

FORM = {
    "title": "公司拖欠工资三个月怎么办",
    "body": "公司已经三个月没有发工资，老板说下个月一起发。",
    "category": "labour",
    "city": "370100",
    "mode": "free",
    "is_public": "on",
    "is_anonymous": "on",
}


def signed_in(user) -> Client:
    client = Client()
    assert client.login(username=user.username, password=TEST_PASSWORD)
    return client


def test_ask_page_needs_a_signed_in_user():
    response = Client().get("/ask/")

    assert response.status_code == 302
    assert "/accounts/login/" in response["Location"]


def test_ask_page_offers_cities_by_province_and_prefills_the_category(asker):
    response = signed_in(asker).get("/ask/", {"category": "debt"})

    assert response.status_code == 200
    html = response.content.decode()
    assert "<optgroup" in html and 'value="370100"' in html
    assert '<option value="debt" selected>' in html


def test_ask_page_starts_from_the_title_of_the_question_it_came_from(asker):
    # given the link of a question page's "ask a lawyer" button, and one with a too long title
    client = signed_in(asker)
    # when
    html = client.get("/ask/", {"title": "信用卡逾期 & <利息>", "city": "370800"}).content.decode()
    too_long = client.get("/ask/", {"title": "长" * 500}).content.decode()
    # then the title is in the field, escaped, and cut to what the form accepts
    assert 'value="信用卡逾期 &amp; &lt;利息&gt;"' in html
    assert '<option value="370800" selected>' in html
    assert f'value="{"长" * 120}"' in too_long and "长" * 121 not in too_long


def test_free_consult_from_the_ask_page(asker):
    # when
    response = signed_in(asker).post("/ask/", FORM)
    # then
    consult = Consult.objects.get()
    assert response.status_code == 302
    assert response["Location"] == f"/consults/{consult.pk}/"
    assert consult.state == Consult.State.QUEUED and not consult.is_paid
    question = consult.question
    assert (question.title, question.city_id, question.category.slug) == (
        FORM["title"],
        "370100",
        "labour",
    )
    assert question.is_public and question.is_anonymous
    assert question.search_vector is not None


def test_paid_consult_price_is_taken_in_yuan_and_stored_in_fen(asker):
    signed_in(asker).post("/ask/", {**FORM, "mode": "paid", "price": "49.90"})

    consult = Consult.objects.get()
    assert (consult.is_paid, consult.price, consult.currency) == (True, 4990, "CNY")
    assert consult.state == Consult.State.PENDING_PAYMENT


def test_private_consult_keeps_the_question_off_public_lists(asker):
    form = {key: value for key, value in FORM.items() if key != "is_public"}

    signed_in(asker).post("/ask/", form)

    assert Question.objects.get().is_public is False


def test_posting_only_publicly_makes_no_consult(asker):
    form = {key: value for key, value in FORM.items() if key != "is_public"}

    response = signed_in(asker).post("/ask/", {**form, "mode": "public"})

    question = Question.objects.get()
    assert question.is_public
    assert not Consult.objects.exists()
    assert response["Location"] == f"/questions/{question.pk}/"


@pytest.mark.parametrize(
    ("change", "message_field"),
    [
        ({"title": ""}, "title"),
        ({"city": "370000"}, "city"),
        ({"mode": "paid", "price": ""}, "price"),
        ({"mode": "paid", "price": "-3"}, "price"),
    ],
)
def test_bad_input_redisplays_the_form_and_saves_nothing(asker, change, message_field):
    response = signed_in(asker).post("/ask/", {**FORM, **change})

    assert response.status_code == 422
    assert response.context["form"].errors.get(message_field)
    assert not Question.objects.exists()
    assert not Consult.objects.exists()


@pytest.mark.parametrize("price", ["1", "10000"])
def test_a_price_outside_the_bounds_is_refused_in_yuan_and_in_the_askers_language(asker, price):
    # given a Chinese-speaking asker offering ¥1 or ¥10,000 (the bounds are ¥5 and ¥5,000)
    client = signed_in(asker)
    client.cookies["django_language"] = "zh-hans"
    # when
    response = client.post("/ask/", {**FORM, "mode": "paid", "price": price})
    # then one message, in Chinese and in yuan, not the service's "minor units" in English
    assert response.status_code == 422
    assert response.context["form"].errors["price"] == ["出价须在 ¥5.00 至 ¥5,000.00 之间。"]
    assert "minor units" not in response.content.decode()
    assert not Question.objects.exists()


def test_a_negative_price_gets_one_message_not_also_enter_a_price(asker):
    response = signed_in(asker).post("/ask/", {**FORM, "mode": "paid", "price": "-3"})

    assert len(response.context["form"].errors["price"]) == 1


def test_a_free_consult_with_a_lawyer_who_charges_says_so_where_it_can_be_seen(asker):
    # given a lawyer who charges ¥99 per consultation
    profile = LawyerProfileFactory(price=9900)
    # when the asker names them but picks a free consultation
    response = signed_in(asker).post(
        "/ask/", {**FORM, "mode": "free", "lawyer": profile.user_id, "price": "99"}
    )
    # then the choice of mode (shown) carries the reason, not the hidden price field
    assert response.status_code == 422
    form = response.context["form"]
    assert "¥99.00" in form.errors["mode"][0]
    assert "price" not in form.errors
    assert not Question.objects.exists()


def test_a_paid_consult_with_a_lawyer_who_charges_nothing_says_to_pick_free(asker):
    profile = LawyerProfileFactory(price=0)

    response = signed_in(asker).post(
        "/ask/", {**FORM, "mode": "paid", "lawyer": profile.user_id, "price": "50"}
    )

    assert response.status_code == 422
    form = response.context["form"]
    assert form.errors["mode"] and "price" not in form.errors
    assert "0 CNY" not in response.content.decode()
    assert not Consult.objects.exists()


def test_asking_a_named_lawyer_uses_the_lawyers_price(asker):
    profile = LawyerProfileFactory(price=9900)
    client = signed_in(asker)

    page = client.get("/ask/", {"lawyer": profile.user_id})
    client.post("/ask/", {**FORM, "mode": "paid", "lawyer": profile.user_id, "price": "1.00"})

    assert profile.user.display_name in page.content.decode()
    consult = Consult.objects.get()
    assert consult.requested_lawyer_id == profile.user_id
    assert consult.price == 9900


def test_a_named_lawyer_that_is_no_number_is_ignored(asker):
    response = signed_in(asker).get("/ask/", {"lawyer": "²"})

    assert response.status_code == 200


def test_a_named_lawyers_price_is_prefilled_in_yuan(asker):
    profile = LawyerProfileFactory(price=9950)

    page = signed_in(asker).get("/ask/", {"lawyer": profile.user_id})

    assert 'value="99.5"' in page.content.decode()


def test_lawyers_are_sent_to_their_workbench(lawyer):
    response = signed_in(lawyer).get("/ask/")

    assert response.status_code == 403
    assert not Question.objects.exists()


# --- the lawyer's profile page --------------------------------------------------------------
PROFILE_FORM = {
    "license_number": "137012019123456",
    "city": "370100",
    "regions_served": ["370100", "370800"],
    "categories": ["debt", "labour"],
    "capacity": "4",
    "price": "49.50",
}


def page_text(response) -> str:
    return html.unescape(response.content.decode())


def test_profile_page_sends_anonymous_visitors_to_sign_in():
    response = Client().get("/workbench/profile/")

    assert response.status_code == 302
    assert "/accounts/login/" in response["Location"]


def test_profile_page_is_403_for_askers(asker):
    response = signed_in(asker).get("/workbench/profile/")
    refused = signed_in(asker).post("/workbench/profile/", PROFILE_FORM)

    assert response.status_code == 403
    assert refused.status_code == 403
    assert not LawyerProfile.objects.exists()


def test_new_lawyer_is_prompted_on_the_workbench_and_the_profile_page(lawyer):
    client = signed_in(lawyer)

    workbench = client.get("/workbench/").content.decode()
    page = client.get("/workbench/profile/")

    assert "data-profile-prompt" in workbench
    assert 'href="/workbench/profile/"' in workbench
    assert page.status_code == 200
    assert 'data-verification="unsubmitted"' in page.content.decode()


def test_submitted_profile_is_pending_then_verified_after_staff_approval(lawyer, staff):
    # given a new lawyer
    client = signed_in(lawyer)
    # when they submit a valid profile
    response = client.post("/workbench/profile/", PROFILE_FORM)
    # then it is saved through the service, pending review, with the price in fen
    assert response.status_code == 302
    profile = LawyerProfile.objects.get(user=lawyer)
    assert profile.verification == LawyerProfile.Verification.PENDING
    assert profile.license_number == "137012019123456"
    assert profile.home_city_id == "370100"
    assert sorted(r.code for r in profile.regions_served.all()) == ["370100", "370800"]
    assert sorted(c.slug for c in profile.categories.all()) == ["debt", "labour"]
    assert (profile.capacity, profile.price) == (4, 4950)
    page = client.get("/workbench/profile/").content.decode()
    assert 'data-verification="pending"' in page
    assert 'value="137012019123456"' in page
    assert 'value="49.5"' in page
    # and when staff approve it, both pages read verified
    services.lawyer_verify(staff=staff, lawyer_id=lawyer.pk, approved=True)
    assert 'data-verification="verified"' in client.get("/workbench/profile/").content.decode()
    workbench = client.get("/workbench/").content.decode()
    assert "data-profile-prompt" not in workbench
    assert "data-edit-profile" in workbench


def test_profile_page_costs_fixed_queries(lawyer, django_assert_num_queries):
    # given a verified lawyer serving two regions
    LawyerProfileFactory(user=lawyer, serves=[city("370100"), city("370800")])
    client = signed_in(lawyer)
    # when / then: session, user, profile, its regions, categories and decisions,
    # provinces, cities, the category choices, and the header's unread notices
    with django_assert_num_queries(10):
        response = client.get("/workbench/profile/")
    assert 'data-verification="verified"' in response.content.decode()


@pytest.mark.parametrize(
    ("language", "served"), [("zh-hans", "济南、济宁"), ("en", "Jinan, Jining")]
)
def test_regions_served_are_listed_with_the_pages_own_separator(lawyer, language, served):
    # given a lawyer serving two cities
    LawyerProfileFactory(user=lawyer, serves=[city("370100"), city("370800")])
    client = signed_in(lawyer)
    client.cookies["django_language"] = language
    # when
    page = page_text(client.get("/workbench/profile/"))
    # then: no Chinese enumeration comma between English names
    assert served in page


def test_whole_province_choices_fit_municipalities_and_autonomous_regions(lawyer):
    page = page_text(signed_in(lawyer).get("/workbench/profile/"))

    # 北京 is a municipality and 新疆 an autonomous region: neither is a 省
    assert "北京全省" not in page
    assert "北京全境" in page
    assert "新疆全境" in page


def test_home_city_alone_is_served_when_no_region_is_chosen(lawyer):
    form = {**PROFILE_FORM, "regions_served": []}

    assert signed_in(lawyer).post("/workbench/profile/", form).status_code == 302

    profile = LawyerProfile.objects.get(user=lawyer)
    assert [r.code for r in profile.regions_served.all()] == ["370100"]


@pytest.mark.parametrize(
    ("field", "value", "error"),
    [
        ("license_number", "12345", errors.InvalidLicenseNumber),
        ("capacity", "50", errors.InvalidCapacity),
    ],
)
def test_bad_profile_is_422_with_the_service_message_and_nothing_saved(lawyer, field, value, error):
    response = signed_in(lawyer).post("/workbench/profile/", {**PROFILE_FORM, field: value})

    assert response.status_code == 422
    with translation.override("zh-hans"):
        assert str(error.message) in page_text(response)
    assert not LawyerProfile.objects.filter(user=lawyer).exists()


@pytest.mark.parametrize("price", ["1.00", "50000.01"])
def test_profile_price_out_of_bounds_is_said_in_yuan(lawyer, settings, price):
    settings.CONSULT_PRICE_MIN, settings.CONSULT_PRICE_MAX = 500, 5_000_000

    response = signed_in(lawyer).post("/workbench/profile/", {**PROFILE_FORM, "price": price})

    assert response.status_code == 422
    assert "付费咨询的价格为 ¥5.00 至 ¥50,000.00；免费咨询请填 0。" in page_text(response)
    assert "minor units" not in page_text(response)
    assert not LawyerProfile.objects.filter(user=lawyer).exists()


def test_regions_served_are_ticked_per_province_with_chosen_ones_open(lawyer):
    # given a lawyer serving Jinan and Jining (Shandong) and all of Beijing
    LawyerProfileFactory(user=lawyer, serves=[city("370100"), city("370800")])
    LawyerProfile.objects.get(user=lawyer).regions_served.add(Region.objects.get(code="110000"))
    # when
    page = signed_in(lawyer).get("/workbench/profile/").content.decode()
    # then: a checkbox per region, the two provinces with choices open, counted and first
    provinces = re.findall(r"<details( open)?>\s*<summary>(.*?)</summary>", page)
    assert [(opened, re.sub(r"<.*?>", " ", name).split()) for opened, name in provinces[:3]] == [
        (" open", ["北京", "1"]),
        (" open", ["山东", "2"]),
        ("", ["天津"]),
    ]
    assert re.search(r'value="370800"[^>]*checked', page)
    assert 'value="370200"' in page and not re.search(r'value="370200"[^>]*checked', page)
    assert "<select" not in page.split('id="id_regions_served"')[1].split("</details>\n</div>")[0]


def test_every_problem_of_a_profile_is_told_at_once(lawyer):
    form = {**PROFILE_FORM, "license_number": "12345", "capacity": "50"}

    response = signed_in(lawyer).post("/workbench/profile/", form)

    assert response.status_code == 422
    text = page_text(response)
    with translation.override("zh-hans"):
        assert str(errors.InvalidLicenseNumber.message) in text
        assert str(errors.InvalidCapacity.message) in text
    assert not LawyerProfile.objects.filter(user=lawyer).exists()


def test_rejected_lawyer_sees_the_staff_reason_and_can_resubmit(lawyer, staff):
    # given a profile staff rejected with a reason
    LawyerProfileFactory(user=lawyer, verification=LawyerProfile.Verification.PENDING)
    services.lawyer_verify(
        staff=staff, lawyer_id=lawyer.pk, approved=False, reason="执业证号与姓名不符"
    )
    client = signed_in(lawyer)
    # then the workbench and the profile page show the reason
    assert "执业证号与姓名不符" in client.get("/workbench/").content.decode()
    page = client.get("/workbench/profile/").content.decode()
    assert 'data-verification="rejected"' in page
    assert "执业证号与姓名不符" in page
    # and submitting again puts it back in review
    assert client.post("/workbench/profile/", PROFILE_FORM).status_code == 302
    assert LawyerProfile.objects.get(user=lawyer).verification == "pending"
