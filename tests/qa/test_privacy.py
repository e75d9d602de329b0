"""Private questions (and consults) and hidden ones never reach a public surface."""

import pytest
from django.test import Client

from marketplace.models import Question
from qa import search
from tests.qa.factories import AnswerFactory, PublicQuestionFactory, resolved_consult

pytestmark = pytest.mark.django_db

SECRET_TITLE = "信用卡逾期利息减免的私密咨询"


@pytest.fixture(params=["private", "hidden", "consult"])
def secret(request) -> Question:
    """A question nobody but its asker may see, with an answer, indexed like any other."""
    if request.param == "consult":
        question = resolved_consult(replies=["可以协商分期还款。"]).question
        Question.objects.filter(pk=question.pk).update(
            title=SECRET_TITLE, body="信用卡逾期三个月,利息减免"
        )
        question.refresh_from_db()
    else:
        question = PublicQuestionFactory(
            title=SECRET_TITLE,
            body="信用卡逾期三个月,利息减免",
            is_public=request.param != "private",
            status=Question.Status.HIDDEN if request.param == "hidden" else Question.Status.OPEN,
        )
    AnswerFactory(question=question)
    search.index_question(question)
    return question


@pytest.fixture
def public_twin() -> Question:
    """A public question about the same problem, whose related list is checked."""
    question = PublicQuestionFactory(
        title="信用卡逾期利息能减免吗", body="信用卡逾期三个月,利息减免"
    )
    search.index_question(question)
    return question


def test_the_page_and_the_answers_of_a_secret_question_are_404(secret, api):
    # when / then
    assert Client().get(f"/questions/{secret.pk}/").status_code == 404
    assert api(None).get(f"questions/{secret.pk}/answers").status_code == 404
    assert api(None).get(f"questions/{secret.pk}/related").status_code == 404


def test_a_secret_question_is_not_listed_or_found_by_search(secret, public_twin):
    # when
    pages = [
        Client().get("/questions/").content.decode(),
        Client().get("/questions/", {"q": "信用卡逾期利息"}).content.decode(),
        Client().get(f"/questions/city/{secret.city_id}/").content.decode(),
        Client().get(f"/questions/category/{secret.category.slug}/").content.decode(),
    ]
    # then
    for html in pages:
        assert SECRET_TITLE not in html
    assert public_twin.title in pages[1]


def test_a_secret_question_is_never_suggested_or_related(secret, public_twin, api):
    # when
    suggested = api(None).get("questions/similar", {"text": SECRET_TITLE}).json()
    suggested_here = Client().get("/questions/similar", {"text": SECRET_TITLE}).json()
    related = api(None).get(f"questions/{public_twin.pk}/related").json()
    page = Client().get(f"/questions/{public_twin.pk}/").content.decode()
    # then
    for found in (suggested, suggested_here, related):
        assert secret.pk not in [q["id"] for q in found]
    assert public_twin.pk in [q["id"] for q in suggested]
    assert SECRET_TITLE not in page


def test_a_secret_question_is_not_in_the_sitemap(secret, public_twin):
    # when
    sitemap = Client().get("/sitemaps/questions-1.xml").content.decode()
    # then
    assert f"/questions/{public_twin.pk}/<" in sitemap
    assert f"/questions/{secret.pk}/<" not in sitemap


def test_answers_to_a_secret_question_are_not_on_the_lawyers_profile(secret):
    # given
    lawyer_id = secret.answers.get().lawyer_id
    # when
    html = Client().get(f"/lawyers/{lawyer_id}/").content.decode()
    # then
    assert SECRET_TITLE not in html


def test_answers_to_a_secret_question_cannot_be_liked_or_reported(secret, api, other_asker):
    # given
    answer = secret.answers.get()
    client = api(other_asker)
    # when
    liked = client.post(f"answers/{answer.pk}/like")
    reported = client.post(
        "reports", {"target_type": "answer", "target_id": answer.pk, "reason": "spam"}
    )
    # then
    assert (liked.status_code, reported.status_code) == (404, 404)


def test_the_report_page_for_a_secret_question_or_its_answer_is_404(secret, other_asker):
    # given
    reader = Client()
    reader.force_login(other_asker)
    answer = secret.answers.get()
    # when
    pages = [
        reader.get("/report/", {"type": "question", "id": secret.pk}),
        reader.get("/report/", {"type": "answer", "id": answer.pk}),
    ]
    # then
    assert [page.status_code for page in pages] == [404, 404]


def test_a_question_made_private_later_disappears_at_once_even_where_cached(public_twin):
    # given: its related list and pages were rendered (and cached) while it was public
    other = PublicQuestionFactory(title="信用卡逾期利息怎么算", body="信用卡逾期三个月,利息减免")
    search.index_question(other)
    assert public_twin.title in Client().get(f"/questions/{other.pk}/").content.decode()
    # when
    Question.objects.filter(pk=public_twin.pk).update(is_public=False)
    # then
    assert public_twin.title not in Client().get(f"/questions/{other.pk}/").content.decode()


def test_a_named_askers_phone_number_username_is_masked_on_the_question_page():
    # given: a public question asked under the asker's name, the name being a phone number
    question = PublicQuestionFactory(is_anonymous=False, asker__username="13812345678")
    # when
    html = Client().get(f"/questions/{question.pk}/").content.decode()
    # then
    assert "13812345678" not in html
    assert "138****5678" in html
