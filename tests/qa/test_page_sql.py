"""The question page's side lists in fixed SQL (qa/page_sql.py) give what the ORM queries they
replace gave: the same lawyers and questions, in the same order, with the same figures."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from django.db.models import Exists, OuterRef
from django.utils import timezone

from marketplace.models import LawyerProfile, Question
from qa import page_sql, search
from qa.models import Answer, AnswerLike, HelpfulMark
from qa.selectors import (
    SAME_CATEGORY_BOOST,
    WELL_RATED_ORDER,
    _lawyer_cards,
    _serving,
    questions_similar,
    verified_lawyers,
)
from tests.factories import LawyerFactory, LawyerProfileFactory, category, city
from tests.qa.factories import AnswerFactory, PublicQuestionFactory
from tests.qa.test_search import make_corpus

pytestmark = pytest.mark.django_db


def lawyers_by_orm(region, category_, limit):
    practises = Exists(
        LawyerProfile.categories.through.objects.filter(
            lawyerprofile_id=OuterRef("pk"), category_id=category_.pk if category_ else None
        )
    )
    return list(
        _lawyer_cards(verified_lawyers().filter(_serving(region)))
        .annotate(practises=practises)
        .order_by("-practises", *WELL_RATED_ORDER)[:limit]
    )


def lawyer_card(p: LawyerProfile) -> tuple:
    home = p.home_city.name if p.home_city else None
    return (p.pk, p.user.username, p.user.display_name, home, p.answer_count, p.helped_total)


def make_lawyers() -> None:
    """Lawyers living in Jinan, serving it, serving Shandong, and ones that must not show."""
    jinan, qingdao, shandong = city("370100"), city("370200"), city("370000")
    debt, family = category("debt"), category("family")
    rated = LawyerProfileFactory(home_city=jinan, practises=[debt], rating_avg=Decimal("4.80"))
    LawyerProfileFactory(
        home_city=jinan, practises=[family], rating_avg=Decimal("4.80"), response_p50_seconds=90
    )
    LawyerProfileFactory(
        home_city=jinan, practises=[debt], rating_avg=Decimal("4.80"), response_p50_seconds=30
    )
    helpful = LawyerProfileFactory(home_city=qingdao, serves=[jinan], practises=[debt])
    LawyerProfileFactory(home_city=qingdao, serves=[shandong], practises=[family])
    LawyerProfileFactory(home_city=None, serves=[jinan], practises=[debt])
    LawyerProfileFactory(home_city=qingdao, practises=[debt])  # neither lives nor serves here
    LawyerProfileFactory(home_city=jinan, verification=LawyerProfile.Verification.PENDING)
    gone = LawyerProfileFactory(home_city=jinan, rating_avg=Decimal("5.00"))
    gone.user.is_active = False
    gone.user.save()
    for n in range(3):
        AnswerFactory(lawyer=helpful.user, helpful_count=n + 1)
    AnswerFactory(lawyer=rated.user, helpful_count=4)
    AnswerFactory(lawyer=rated.user, status=Answer.Status.REJECTED, helpful_count=9)


@pytest.mark.parametrize("slug", ["debt", "family", None])
@pytest.mark.parametrize("limit", [2, 10])
def test_local_lawyers_are_the_ones_the_orm_ranked(slug, limit):
    # given
    make_lawyers()
    jinan, wanted = city("370100"), category(slug) if slug else None
    # when
    found = page_sql.lawyers_ranked_for_city(jinan, category=wanted, limit=limit)
    # then
    expected = lawyers_by_orm(jinan, wanted, limit)
    assert len(expected) == min(limit, 6)
    assert [lawyer_card(p) for p in found] == [lawyer_card(p) for p in expected]


def test_local_lawyers_by_id_are_the_cards_of_those_still_verified():
    # given
    make_lawyers()
    ranked = page_sql.lawyers_ranked_for_city(city("370100"), category=None, limit=10)
    unverified = ranked[0]
    LawyerProfile.objects.filter(pk=unverified.pk).update(
        verification=LawyerProfile.Verification.REJECTED
    )
    # when
    found = page_sql.lawyers_by_ids([p.pk for p in ranked])
    # then
    by_id = {p.pk: lawyer_card(p) for p in found}
    assert by_id == {p.pk: lawyer_card(p) for p in ranked[1:]}


def question_card(q: Question) -> tuple:
    return (q.pk, q.title, q.excerpt, q.city.name, q.category.slug, q.answer_count)


@pytest.mark.parametrize("boost", ["debt", "traffic"])
def test_related_questions_are_the_ones_the_orm_ranked_from_the_question_s_text(boost):
    # given: the search corpus, answers to some of it, a hidden and a private twin, and a
    # question about several of its problems at once
    corpus = make_corpus()
    AnswerFactory(question=corpus["card_lawsuit"])
    AnswerFactory(question=corpus["card_lawsuit"])
    AnswerFactory(question=corpus["card_interest"], status=Answer.Status.PENDING)
    for extra in (
        {"status": Question.Status.HIDDEN},
        {"is_public": False},
    ):
        twin = PublicQuestionFactory(title="信用卡逾期了利息能减免吗", **extra)
        search.index_question(twin)
    question = PublicQuestionFactory(
        title="信用卡逾期利息和交通事故误工费",
        body="孩子的抚养权怎么判,公司不签劳动合同,朋友借钱不还。",
        category=category("debt"),
    )
    search.index_question(question)
    boost_id = category(boost).pk
    # when: related questions come from the question's own index entry
    found = page_sql.questions_related_to(
        question, boost_category_id=boost_id, boost_by=SAME_CATEGORY_BOOST, limit=10
    )
    # then: the same as ranking its text segmented anew (title twice, the body's start)
    text = f"{question.title} {question.title} {question.body[:300]}"
    expected = questions_similar(
        text=text, exclude_id=question.pk, boost_category_id=boost_id, limit=10
    )
    assert len(expected) >= 4
    assert [question_card(q) for q in found] == [question_card(q) for q in expected]
    by_id = page_sql.questions_by_ids([q.pk for q in found])
    assert sorted(question_card(q) for q in by_id) == sorted(question_card(q) for q in found)


def test_a_question_not_indexed_yet_has_no_related_questions():
    # given
    make_corpus()
    question = PublicQuestionFactory()
    # when / then
    assert (
        page_sql.questions_related_to(
            question, boost_category_id=question.category_id, boost_by=0.3, limit=10
        )
        == []
    )


def test_the_question_of_a_page_is_the_row_the_orm_read_with_its_relations():
    # given
    question = PublicQuestionFactory(city=city("370200"), category=category("family"))
    question.view_count, question.helped_count = 41, 3
    question.save()
    expected = Question.objects.select_related("city__parent", "category", "asker").get(
        pk=question.pk
    )
    # when
    found = page_sql.question_for_page(question.pk)
    # then
    assert found is not None
    fields = [f.attname for f in Question._meta.concrete_fields if f.name != "search_vector"]
    assert [getattr(found, f) for f in fields] == [getattr(expected, f) for f in fields]
    assert (found.city, found.city.parent, found.category, found.asker) == (
        expected.city,
        expected.city.parent,
        expected.category,
        expected.asker,
    )
    assert found.city.parent.name == expected.city.parent.name
    assert (found.category.slug, found.asker.username) == ("family", expected.asker.username)


@pytest.mark.parametrize("hidden_by", ["status", "private", "missing"])
def test_a_question_that_is_not_public_has_no_page(hidden_by):
    # given
    question = PublicQuestionFactory()
    if hidden_by == "status":
        Question.objects.filter(pk=question.pk).update(status=Question.Status.HIDDEN)
    elif hidden_by == "private":
        Question.objects.filter(pk=question.pk).update(is_public=False)
    else:
        question.delete()
    # when / then
    assert page_sql.question_for_page(question.pk if question.pk else 10**9) is None


def answers_by_orm(question: Question, viewer_id: int):
    mine = {"user_id": viewer_id, "answer": OuterRef("pk")}
    return list(
        Answer.objects.filter(question=question, status=Answer.Status.APPROVED)
        .select_related("lawyer", "lawyer__lawyer_profile", "lawyer__lawyer_profile__home_city")
        .prefetch_related("legal_bases")
        .annotate(
            asker_found_helpful=Exists(
                HelpfulMark.objects.filter(answer=OuterRef("pk"), user_id=question.asker_id)
            ),
            liked=Exists(AnswerLike.objects.filter(**mine)),
            marked_helpful=Exists(HelpfulMark.objects.filter(**mine)),
        )
        .order_by("-asker_found_helpful", "-helpful_count", "-like_count", "published_at")
    )


def answer_card(a: Answer) -> tuple:
    profile = getattr(a.lawyer, "lawyer_profile", None)
    return (
        a.pk,
        a.body,
        a.like_count,
        a.published_at,
        a.lawyer.username,
        profile and (profile.firm, profile.is_verified, profile.home_city.name),
        a.asker_found_helpful,
        a.liked,
        a.marked_helpful,
        [(b.position, b.citation, b.excerpt) for b in a.legal_bases.all()],
    )


@pytest.mark.parametrize("viewer", ["anonymous", "reader"])
def test_answers_are_the_ones_the_orm_read_in_its_order(viewer, other_asker):
    # given: approved answers ranked by the asker's mark, helpful marks, likes and age, one
    # with legal bases, one by a lawyer without a profile, and answers that must not show
    question = PublicQuestionFactory()
    now = timezone.now()
    plain = AnswerFactory(question=question, published_at=now - timedelta(hours=3))
    cited = AnswerFactory(
        question=question,
        helpful_count=2,
        published_at=now - timedelta(hours=2),
        bases=[("民法典", "第六百七十五条"), ("刑法", "第一百九十六条")],
    )
    chosen = AnswerFactory(question=question, published_at=now - timedelta(hours=1))
    AnswerFactory(question=question, lawyer=LawyerFactory(), like_count=5, published_at=now)
    AnswerFactory(question=question, status=Answer.Status.PENDING)
    AnswerFactory(question=question, status=Answer.Status.REJECTED)
    AnswerFactory(bases=[("刑法", "第二百六十四条")])  # another question's
    HelpfulMark.objects.create(answer=chosen, user=question.asker)
    HelpfulMark.objects.create(answer=cited, user=other_asker)
    AnswerLike.objects.create(answer=plain, user=other_asker)
    viewer_id = other_asker.pk if viewer == "reader" else None
    # when
    found = page_sql.answers_for_page(question, viewer_id=viewer_id)
    # then
    expected = answers_by_orm(question, viewer_id or 0)
    assert [a.pk for a in found][:2] == [chosen.pk, cited.pk]
    assert [answer_card(a) for a in found] == [answer_card(a) for a in expected]
    assert len(found[1].legal_bases.all()) == 2
