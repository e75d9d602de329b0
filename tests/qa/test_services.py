"""Answers and their moderation, likes and helpful marks (qa.services)."""

import threading

import pytest
from django.db import connections

from config.errors import NotFound
from marketplace.models import Question
from qa import errors, selectors, services
from qa.models import Answer, AnswerLike, AnswerReview, HelpfulMark, LegalBasis
from tests.factories import AskerFactory, LawyerProfileFactory, StaffFactory
from tests.qa.factories import AnswerFactory, PublicQuestionFactory

pytestmark = pytest.mark.django_db

BODY = "根据法律规定,逾期利息需要偿还,可以与银行协商个性化分期,并保留沟通记录。"


# --- answering ----------------------------------------------------------------------------
def test_a_verified_lawyers_answer_waits_for_review_with_its_legal_bases(question, verified_lawyer):
    # when
    answer = services.answer_create(
        lawyer=verified_lawyer,
        question_id=question.pk,
        body=BODY,
        legal_bases=[
            {"statute": "《刑法》", "article": "第二百六十四条"},
            {"statute": "民法典", "article": "676"},
            {"statute": "", "article": ""},
        ],
    )
    # then
    assert answer.status == Answer.Status.PENDING
    bases = list(LegalBasis.objects.filter(answer=answer).values_list("statute", "article"))
    assert bases == [("刑法", "第二百六十四条"), ("民法典", "第676条")]
    assert answer.legal_bases.first().citation == "《刑法》第二百六十四条"


def test_an_unverified_lawyer_cannot_answer(question, unverified_lawyer):
    # when / then
    with pytest.raises(errors.LawyerNotVerified):
        services.answer_create(lawyer=unverified_lawyer, question_id=question.pk, body=BODY)


@pytest.mark.parametrize("article", ["第二百六十四", "two hundred", "条", ""])
def test_a_legal_basis_without_a_real_article_is_refused(question, verified_lawyer, article):
    # when / then
    with pytest.raises(errors.InvalidLegalBasis):
        services.answer_create(
            lawyer=verified_lawyer,
            question_id=question.pk,
            body=BODY,
            legal_bases=[{"statute": "刑法", "article": article}],
        )
    assert not Answer.objects.exists()


def test_a_lawyer_has_one_live_answer_per_question(question, verified_lawyer):
    # given
    services.answer_create(lawyer=verified_lawyer, question_id=question.pk, body=BODY)
    # when / then
    with pytest.raises(errors.AlreadyAnswered):
        services.answer_create(lawyer=verified_lawyer, question_id=question.pk, body=BODY)


def test_a_rejected_lawyer_may_answer_again(question, verified_lawyer, staff):
    # given
    first = services.answer_create(lawyer=verified_lawyer, question_id=question.pk, body=BODY)
    services.answer_review(staff=staff, answer_id=first.pk, approve=False, reason="法条引用错误")
    # when
    second = services.answer_create(lawyer=verified_lawyer, question_id=question.pk, body=BODY)
    # then
    assert second.status == Answer.Status.PENDING


def test_a_lawyer_withdraws_a_published_answer_and_may_answer_again(answer, asker):
    # given a published answer the asker found helpful
    services.answer_mark_helpful(user=asker, answer_id=answer.pk)
    # when its lawyer withdraws it
    withdrawn = services.answer_withdraw(lawyer=answer.lawyer, answer_id=answer.pk)
    # then it leaves the question, its help stops counting, and a new answer may be written
    assert withdrawn.status == Answer.Status.WITHDRAWN
    assert not selectors.visible_answers().filter(pk=answer.pk).exists()
    assert Question.objects.get(pk=answer.question_id).helped_count == 0
    again = services.answer_create(lawyer=answer.lawyer, question_id=answer.question_id, body=BODY)
    assert again.status == Answer.Status.PENDING


def test_a_pending_answer_may_be_withdrawn_but_not_twice(question, verified_lawyer):
    pending = services.answer_create(lawyer=verified_lawyer, question_id=question.pk, body=BODY)

    services.answer_withdraw(lawyer=verified_lawyer, answer_id=pending.pk)

    with pytest.raises(errors.AnswerNotWithdrawable):
        services.answer_withdraw(lawyer=verified_lawyer, answer_id=pending.pk)


def test_only_its_own_lawyer_withdraws_an_answer(answer):
    with pytest.raises(NotFound):
        services.answer_withdraw(lawyer=LawyerProfileFactory().user, answer_id=answer.pk)

    assert Answer.objects.get(pk=answer.pk).status == Answer.Status.APPROVED


def test_private_and_hidden_questions_take_no_answers(verified_lawyer):
    # given
    private = PublicQuestionFactory(is_public=False)
    hidden = PublicQuestionFactory(status=Question.Status.HIDDEN)
    # when / then
    for q in (private, hidden):
        with pytest.raises(NotFound):
            services.answer_create(lawyer=verified_lawyer, question_id=q.pk, body=BODY)


def test_an_answer_promising_an_outcome_is_flagged_for_review(question, verified_lawyer):
    # when
    answer = services.answer_create(
        lawyer=verified_lawyer,
        question_id=question.pk,
        body="这个案子百分百胜诉,请放心委托我们处理。",
    )
    # then
    assert answer.is_flagged
    assert answer.flags == [{"code": "outcome_promise", "match": "百分百胜诉"}]


# --- moderation ---------------------------------------------------------------------------
def test_one_approval_publishes_with_the_default_single_round(question, verified_lawyer, staff):
    # given
    answer = services.answer_create(lawyer=verified_lawyer, question_id=question.pk, body=BODY)
    # when
    reviewed = services.answer_review(staff=staff, answer_id=answer.pk, approve=True)
    # then
    assert reviewed.status == Answer.Status.APPROVED and reviewed.published_at
    question.refresh_from_db()
    assert question.status == Question.Status.ANSWERED


def test_with_two_rounds_two_different_reviewers_must_approve(
    question, verified_lawyer, staff, other_staff, settings
):
    # given
    settings.QA_ANSWER_REVIEW_ROUNDS = 2
    answer = services.answer_create(lawyer=verified_lawyer, question_id=question.pk, body=BODY)
    # when
    after_first = services.answer_review(staff=staff, answer_id=answer.pk, approve=True)
    with pytest.raises(errors.AlreadyReviewed):
        services.answer_review(staff=staff, answer_id=answer.pk, approve=True)
    after_second = services.answer_review(staff=other_staff, answer_id=answer.pk, approve=True)
    # then
    assert after_first.status == Answer.Status.PENDING and after_first.approvals == 1
    assert after_second.status == Answer.Status.APPROVED
    assert list(AnswerReview.objects.filter(answer=answer).values_list("round", "reviewer")) == [
        (1, staff.pk),
        (2, other_staff.pk),
    ]


def test_a_rejection_in_any_round_ends_the_review_with_its_reason(
    question, verified_lawyer, staff, other_staff, settings
):
    # given
    settings.QA_ANSWER_REVIEW_ROUNDS = 3
    answer = services.answer_create(lawyer=verified_lawyer, question_id=question.pk, body=BODY)
    services.answer_review(staff=staff, answer_id=answer.pk, approve=True)
    # when
    rejected = services.answer_review(
        staff=other_staff, answer_id=answer.pk, approve=False, reason="承诺结果"
    )
    # then
    assert rejected.status == Answer.Status.REJECTED
    assert rejected.rejection_reason == "承诺结果"
    with pytest.raises(errors.AnswerNotPending):
        services.answer_review(staff=StaffFactory(), answer_id=answer.pk, approve=True)


def test_a_rejection_needs_a_reason(question, verified_lawyer, staff):
    # given
    answer = services.answer_create(lawyer=verified_lawyer, question_id=question.pk, body=BODY)
    # when / then
    with pytest.raises(errors.ReasonRequired):
        services.answer_review(staff=staff, answer_id=answer.pk, approve=False, reason="  ")
    assert Answer.objects.get(pk=answer.pk).status == Answer.Status.PENDING


def test_the_rounds_an_answer_needs_are_fixed_when_it_is_written(
    question, verified_lawyer, staff, settings
):
    # given
    settings.QA_ANSWER_REVIEW_ROUNDS = 2
    answer = services.answer_create(lawyer=verified_lawyer, question_id=question.pk, body=BODY)
    settings.QA_ANSWER_REVIEW_ROUNDS = 1
    # when
    reviewed = services.answer_review(staff=staff, answer_id=answer.pk, approve=True)
    # then
    assert reviewed.status == Answer.Status.PENDING


# --- likes --------------------------------------------------------------------------------
def test_liking_twice_counts_once_and_unliking_takes_it_back(answer, other_asker):
    # when
    first = services.answer_like(user=other_asker, answer_id=answer.pk)
    second = services.answer_like(user=other_asker, answer_id=answer.pk)
    after_unlike = services.answer_unlike(user=other_asker, answer_id=answer.pk)
    # then
    assert (first, second, after_unlike) == (1, 1, 0)


def test_a_lawyer_cannot_like_their_own_answer(answer):
    # when / then
    with pytest.raises(errors.OwnAnswer):
        services.answer_like(user=answer.lawyer, answer_id=answer.pk)


def test_an_answer_not_yet_approved_cannot_be_liked(question, other_asker):
    # given
    pending = AnswerFactory(question=question, status=Answer.Status.PENDING, published_at=None)
    # when / then
    with pytest.raises(NotFound):
        services.answer_like(user=other_asker, answer_id=pending.pk)


def _run_at_once(count: int, target) -> list[BaseException]:
    failures: list[BaseException] = []
    barrier = threading.Barrier(count)

    def run(n: int) -> None:
        try:
            barrier.wait()
            target(n)
        except BaseException as exc:  # noqa: BLE001 - reported by the test
            failures.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run, args=(n,)) for n in range(count)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return failures


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_one_user_liking_many_times_at_once_is_counted_once():
    # given
    answer = AnswerFactory()
    user = AskerFactory()
    # when
    failures = _run_at_once(16, lambda n: services.answer_like(user=user, answer_id=answer.pk))
    # then
    assert failures == []
    assert AnswerLike.objects.filter(answer=answer).count() == 1
    assert Answer.objects.get(pk=answer.pk).like_count == 1


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_many_users_liking_at_once_are_all_counted():
    # given
    answer = AnswerFactory()
    users = [AskerFactory() for _ in range(16)]
    # when
    failures = _run_at_once(16, lambda n: services.answer_like(user=users[n], answer_id=answer.pk))
    # then
    assert failures == []
    assert Answer.objects.get(pk=answer.pk).like_count == 16 == AnswerLike.objects.count()


# --- helpful marks --------------------------------------------------------------------------
def test_the_askers_helpful_mark_counts_as_one_person_helped(answer, asker):
    # when
    helped = services.answer_mark_helpful(user=asker, answer_id=answer.pk)
    # then
    assert helped == 1
    assert Question.objects.get(pk=answer.question_id).helped_count == 1
    assert Answer.objects.get(pk=answer.pk).helpful_count == 1


def test_one_reader_marking_two_answers_is_one_person_helped(answer, other_asker):
    # given
    second = AnswerFactory(question=answer.question)
    # when
    services.answer_mark_helpful(user=other_asker, answer_id=answer.pk)
    helped = services.answer_mark_helpful(user=other_asker, answer_id=second.pk)
    # then
    assert helped == 1


def test_helped_counts_distinct_people_and_unmarking_takes_one_back(answer, asker, other_asker):
    # given
    services.answer_mark_helpful(user=asker, answer_id=answer.pk)
    services.answer_mark_helpful(user=other_asker, answer_id=answer.pk)
    # when
    helped = services.answer_unmark_helpful(user=asker, answer_id=answer.pk)
    # then
    assert helped == 1
    assert HelpfulMark.objects.filter(answer=answer).count() == 1


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_helpful_marks_sent_at_once_count_every_person():
    # given
    answer = AnswerFactory()
    second = AnswerFactory(question=answer.question)
    users = [AskerFactory() for _ in range(12)]
    # when
    failures = _run_at_once(
        12,
        lambda n: services.answer_mark_helpful(user=users[n], answer_id=(answer, second)[n % 2].pk),
    )
    # then
    assert failures == []
    assert Question.objects.get(pk=answer.question_id).helped_count == 12


def test_control_characters_never_reach_the_database(question, verified_lawyer, other_asker):
    # when
    answer = services.answer_create(
        lawyer=verified_lawyer,
        question_id=question.pk,
        body="依法\x00可以\x1b协商分期还款,保留沟通记录。",
        legal_bases=[{"statute": "刑\x00法", "article": "第二百六十四条\x00"}],
    )
    # then
    assert answer.body == "依法可以协商分期还款,保留沟通记录。"
    assert answer.legal_bases.get().statute == "刑法"


def test_malformed_region_and_category_filters_are_not_found():
    # when / then
    from qa.selectors import category_by_slug, region_by_code

    for code in ("37010\x00", "abcdef", "3701000"):
        with pytest.raises(NotFound):
            region_by_code(code)
    with pytest.raises(NotFound):
        category_by_slug("debt\x00")
