"""The ask page (/ask/): a question and, unless only posted publicly, a consult at once."""

from __future__ import annotations

import pytest
from django.test import Client

from marketplace.models import Consult, Question
from tests.factories import TEST_PASSWORD, LawyerProfileFactory

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
