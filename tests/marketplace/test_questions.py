"""Questions: POST/GET /questions, GET /questions/{id}."""

from __future__ import annotations

import pytest

from marketplace.models import Question
from tests.factories import category, city
from tests.marketplace.factories import QuestionFactory

pytestmark = pytest.mark.django_db

VALID = {
    "title": "信用卡逾期被起诉怎么办",
    "body": "我欠银行三万元，逾期半年，收到法院传票。",
    "category": "debt",
    "city": "370100",
}


def test_asker_creates_a_question_indexed_for_search(api, asker):
    # when
    response = api(asker).post("questions", VALID)
    # then
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["title"] == VALID["title"]
    assert body["city"]["code"] == "370100"
    assert body["province"] == "370000"
    assert body["category"]["slug"] == "debt"
    assert body["asker"] == asker.pk
    question = Question.objects.get(pk=body["id"])
    assert question.search_vector is not None


def test_anonymous_question_hides_its_asker(api, asker):
    response = api(asker).post("questions", {**VALID, "is_anonymous": True})

    assert response.status_code == 201
    assert response.json()["asker"] is None


@pytest.mark.parametrize(
    ("change", "code", "field"),
    [
        ({"title": ""}, "title_required", "title"),
        ({"title": "   "}, "title_required", "title"),
        ({"title": "长" * 121}, "title_too_long", "title"),
        ({"body": ""}, "body_required", "body"),
        ({"body": "字" * 20_001}, "body_too_long", "body"),
        ({"city": "999999"}, "unknown_region", "city"),
        ({"city": "370000"}, "region_not_city", "city"),
        ({"city": "100000"}, "region_not_city", "city"),
        ({"city": ""}, "unknown_region", "city"),
        ({"category": "astrology"}, "unknown_category", "category"),
    ],
)
def test_bad_question_input_gets_its_code(api, asker, change, code, field):
    # when
    response = api(asker).post("questions", {**VALID, **change})
    # then
    assert response.status_code == 422
    assert response.json()["code"] == code
    assert field in response.json()["fields"]
    assert not Question.objects.exists()


def test_body_of_exactly_twenty_thousand_characters_is_accepted(api, asker):
    response = api(asker).post("questions", {**VALID, "body": "字" * 20_000})

    assert response.status_code == 201


def test_missing_fields_get_stable_codes_not_framework_errors(api, asker):
    response = api(asker).post("questions", {})

    assert response.status_code == 422
    assert response.json()["code"] == "title_required"


def test_lawyer_cannot_ask(api, lawyer):
    response = api(lawyer).post("questions", VALID)

    assert response.status_code == 403
    assert response.json()["code"] == "lawyers_cannot_ask"


def test_staff_cannot_ask(api, staff):
    response = api(staff).post("questions", VALID)

    assert response.status_code == 403
    assert response.json()["code"] == "wrong_role"


def test_anonymous_visitor_cannot_ask(api):
    response = api(None).post("questions", VALID)

    assert response.status_code == 401


def test_list_shows_public_questions_newest_first_and_never_private_ones(api, asker):
    # given
    older = QuestionFactory(title="older")
    newer = QuestionFactory(title="newer")
    QuestionFactory(title="private", is_public=False)
    QuestionFactory(title="hidden", status=Question.Status.HIDDEN)
    # when
    response = api(None).get("questions")
    # then
    assert response.status_code == 200
    body = response.json()
    assert [q["id"] for q in body["items"]] == [newer.pk, older.pk]
    assert body["count"] == 2


def test_list_filters_by_city_province_and_category(api):
    # given
    jinan_debt = QuestionFactory(city=city("370100"))
    qingdao_labour = QuestionFactory(city=city("370200"), category=category("labour"))
    beijing_debt = QuestionFactory(city=city("110100"))
    client = api(None)

    def listed(**params):
        return {q["id"] for q in client.get("questions", params).json()["items"]}

    # then
    assert listed(region="370100") == {jinan_debt.pk}
    assert listed(region="370000") == {jinan_debt.pk, qingdao_labour.pk}
    assert listed(region="100000") == {jinan_debt.pk, qingdao_labour.pk, beijing_debt.pk}
    assert listed(category="debt") == {jinan_debt.pk, beijing_debt.pk}
    assert listed(region="370000", category="labour") == {qingdao_labour.pk}


@pytest.mark.parametrize(
    ("params", "code"),
    [({"region": "123456"}, "unknown_region"), ({"category": "nope"}, "unknown_category")],
)
def test_list_with_unknown_filter_gets_its_code(api, params, code):
    response = api(None).get("questions", params)

    assert response.status_code == 422
    assert response.json()["code"] == code


def test_search_finds_chinese_questions_by_words(api, asker):
    # given
    for title, body in [
        ("信用卡逾期被起诉怎么办", "银行起诉我信用卡欠款"),
        ("交通事故对方全责如何赔偿", "被车撞了，对方全责"),
    ]:
        assert (
            api(asker).post("questions", {**VALID, "title": title, "body": body}).status_code == 201
        )
    # when
    items = api(None).get("questions", {"q": "信用卡欠款"}).json()["items"]
    # then
    assert [q["title"] for q in items] == ["信用卡逾期被起诉怎么办"]


def test_mine_lists_the_askers_own_questions_including_private(api, asker, other_asker):
    # given
    own_private = QuestionFactory(asker=asker, is_public=False)
    QuestionFactory(asker=other_asker)
    # when
    items = api(asker).get("questions", {"mine": "true"}).json()["items"]
    # then
    assert [q["id"] for q in items] == [own_private.pk]


def test_mine_needs_a_signed_in_user(api):
    response = api(None).get("questions", {"mine": "true"})

    assert response.status_code == 401


def test_list_query_count_is_pinned(api, django_assert_num_queries):
    # given
    QuestionFactory.create_batch(5)
    client = api(None)
    # then: count + page, whatever the page size
    with django_assert_num_queries(2):
        assert len(client.get("questions").json()["items"]) == 5


def test_public_question_detail_is_open_to_anyone(api):
    question = QuestionFactory()

    response = api(None).get(f"questions/{question.pk}")

    assert response.status_code == 200
    assert response.json()["id"] == question.pk


def test_private_question_is_seen_by_its_asker_only(api, asker, other_asker, lawyer):
    # given
    question = QuestionFactory(asker=asker, is_public=False)
    path = f"questions/{question.pk}"
    # then
    assert api(asker).get(path).status_code == 200
    for viewer in (other_asker, lawyer, None):
        response = api(viewer).get(path)
        assert response.status_code == 404
        assert response.json()["code"] == "not_found"


def test_unknown_question_is_404(api):
    assert api(None).get("questions/987654").status_code == 404
