import io

import pytest
from django.db.models import Count

from marketplace.models import Question
from qa import demo
from qa.models import Answer, AnswerLike, AnswerReview, HelpfulMark, LegalBasis, Report
from qa.selectors import questions_similar
from tests.factories import AskerFactory, LawyerProfileFactory, city

pytestmark = pytest.mark.django_db

MODELS = (Question, Answer, LegalBasis, AnswerReview, AnswerLike, HelpfulMark, Report)


@pytest.fixture
def demo_people():
    askers = [AskerFactory(username=f"asker{n:03d}") for n in range(1, 41)]
    for code in ("370100", "370200", "110100", "440300"):
        for _ in range(3):
            LawyerProfileFactory(home_city=city(code))
    return askers


@pytest.fixture
def seeded(demo_people):
    demo.seed(io.StringIO())


@pytest.fixture
def seeded_small(demo_people, monkeypatch):
    monkeypatch.setattr(demo, "QUESTION_COUNT", 400)
    demo.seed(io.StringIO())


def counts() -> dict[str, int]:
    return {model.__name__: model.objects.count() for model in MODELS}


def test_the_demo_world_has_about_two_thousand_answered_public_questions(seeded):
    # then
    public = Question.objects.filter(is_public=True)
    assert public.count() == demo.QUESTION_COUNT
    assert public.values("category").distinct().count() == 14
    assert public.values("city").distinct().count() > 100
    assert not public.filter(search_vector__isnull=True).exists()
    approved = Answer.objects.filter(status="approved")
    assert approved.count() > public.count()
    assert (
        LegalBasis.objects.filter(answer__in=approved).values("answer").distinct().count()
        > 0.9 * approved.count()
    )
    assert Answer.objects.filter(status="pending", is_flagged=True).exists()
    assert Report.objects.filter(status="open").exists()


def test_a_demo_questions_body_tells_the_same_amount_as_its_title(seeded_small):
    from qa.demo_content import SLOTS

    # given the demo questions whose title names an amount
    amounts = sorted(SLOTS["amount"], key=len, reverse=True)  # "12万元" before "2万元"
    checked = 0
    for title, body in Question.objects.filter(is_public=True).values_list("title", "body"):
        in_title = next((a for a in amounts if a in title), None)
        in_body = next((a for a in amounts if a in body), None)
        if in_title and in_body:
            # then the body speaks of the same sum ("欠的货款8万元" is not "欠我货款8000元")
            assert in_title == in_body, (title, body)
            checked += 1
    assert checked > 10


def test_demo_counts_come_from_real_rows(seeded_small):
    # then
    likes = dict(
        AnswerLike.objects.values("answer").annotate(n=Count("pk")).values_list("answer", "n")
    )
    for answer_id, like_count in Answer.objects.filter(status="approved").values_list(
        "pk", "like_count"
    )[:300]:
        assert likes.get(answer_id, 0) == like_count
    for question in Question.objects.filter(helped_count__gt=0)[:100]:
        marked = (
            HelpfulMark.objects.filter(answer__question=question).values("user").distinct().count()
        )
        assert marked == question.helped_count


def test_seeding_twice_changes_nothing(seeded_small):
    # given
    before = counts()
    # when
    demo.seed(io.StringIO())
    # then
    assert counts() == before


def test_demo_questions_are_found_by_a_chinese_query(seeded_small):
    # when
    found = questions_similar(text="信用卡逾期了利息能减免吗", limit=5)
    # then
    assert len(found) == 5
    assert all("信用卡" in q.title for q in found)


def test_seeding_over_titles_with_half_width_punctuation_adds_no_duplicates(seeded_small):
    # given a world seeded before the demo text used full-width punctuation
    half_width = str.maketrans("，？：；（）！", ",?:;()!")
    questions = list(Question.objects.filter(title__regex="[，？：；（）！]"))
    for question in questions:
        question.title = question.title.translate(half_width)
    Question.objects.bulk_update(questions, ["title"])
    before = counts()
    # when
    demo.seed(io.StringIO())
    # then
    assert questions
    assert counts() == before
