"""A lawyer edits their own answer in place (qa.services.answer_edit) and staff review the edit
of a published answer (answer_review); every edit is kept with the text it replaced."""

from __future__ import annotations

import threading
import time

import pytest
from django.db import connection, transaction

from config.errors import NotFound
from marketplace.models import LawyerProfile, Question
from qa import errors, selectors, services
from qa.models import Answer, AnswerReview, AnswerRevision, LegalBasis, Report
from tests.concurrency import run_at_once
from tests.factories import AskerFactory, LawyerProfileFactory, StaffFactory
from tests.qa.factories import AnswerFactory

PUBLISHED = "逾期利息原则上需要偿还,可以与银行协商个性化分期还款,分期期限一般不超过五年。"
EDITED = "补充:协商分期时请保留通话录音和书面材料,银行拒绝的可以向金融监管部门投诉。"
AGAIN = "再次修改:如果银行起诉,可以在诉讼中主张减免部分违约金和复利。"


def _published(**kwargs) -> Answer:
    return AnswerFactory(body=PUBLISHED, bases=[("民法典", "第六百七十六条")], **kwargs)


def _pending_edit(answer: Answer) -> AnswerRevision:
    return AnswerRevision.objects.get(answer=answer, status=AnswerRevision.Status.PENDING)


def _citations(answer: Answer) -> list[str]:
    return [b.citation for b in LegalBasis.objects.filter(answer=answer).order_by("position")]


# --- an edit of a published answer waits for review ---------------------------------------
@pytest.mark.django_db
def test_an_edit_of_a_published_answer_waits_while_the_published_text_stays(other_asker):
    # given a published answer someone liked
    answer = _published()
    services.answer_like(user=other_asker, answer_id=answer.pk)
    # when its lawyer edits the text and the legal bases
    services.answer_edit(
        lawyer=answer.lawyer,
        answer_id=answer.pk,
        body=EDITED,
        legal_bases=[{"statute": "刑法", "article": "第一百九十六条"}],
    )
    # then the page still shows the published text, its bases and its like
    shown = selectors.answers_for_question(answer.question, None)
    assert [(a.pk, a.body, a.like_count) for a in shown] == [(answer.pk, PUBLISHED, 1)]
    assert _citations(answer) == ["《民法典》第六百七十六条"]
    assert shown[0].edited_at is None
    # and the edit waits for review, with the text it would replace
    edit = _pending_edit(answer)
    assert (edit.number, edit.body, edit.previous_body) == (1, EDITED, PUBLISHED)
    assert edit.citations == ["《刑法》第一百九十六条"]
    assert Answer.objects.get(pk=answer.pk).revision == 1
    assert [a.pk for a in selectors.answers_pending_review()] == [answer.pk]


@pytest.mark.django_db
def test_approving_an_edit_swaps_the_text_in_and_marks_the_answer_edited(staff):
    # given a published answer with an edit waiting
    answer = _published()
    published_at = answer.published_at
    services.answer_edit(
        lawyer=answer.lawyer,
        answer_id=answer.pk,
        body=EDITED,
        legal_bases=[{"statute": "刑法", "article": "第一百九十六条", "excerpt": "恶意透支"}],
    )
    # when staff approve it, having read revision 1
    reviewed = services.answer_review(staff=staff, answer_id=answer.pk, approve=True, expected=1)
    # then the page shows the new text and bases, marked edited, in the answer's own place
    answer.refresh_from_db()
    assert (answer.status, answer.body, answer.published_at) == ("approved", EDITED, published_at)
    assert answer.edited_at is not None
    assert _citations(answer) == ["《刑法》第一百九十六条"]
    assert LegalBasis.objects.get(answer=answer).excerpt == "恶意透支"
    assert reviewed.reviewed_edit.status == AnswerRevision.Status.APPROVED
    # and the history keeps the text it replaced; nothing waits any more
    (edit,) = selectors.answer_history(answer.pk)
    assert (edit.status, edit.previous_body) == ("approved", PUBLISHED)
    assert edit.previous_legal_bases == [
        {"statute": "民法典", "article": "第六百七十六条", "excerpt": ""}
    ]
    assert AnswerReview.objects.get(answer=answer).of_edit
    assert not selectors.answers_pending_review().exists()


@pytest.mark.django_db
def test_rejecting_an_edit_keeps_the_published_text_and_records_the_reason(staff):
    # given
    answer = _published()
    services.answer_edit(lawyer=answer.lawyer, answer_id=answer.pk, body=EDITED)
    # when
    services.answer_review(staff=staff, answer_id=answer.pk, approve=False, reason="引用错误")
    # then
    answer.refresh_from_db()
    assert (answer.status, answer.body, answer.edited_at) == ("approved", PUBLISHED, None)
    edit = AnswerRevision.objects.get(answer=answer)
    assert (edit.status, edit.rejection_reason) == ("rejected", "引用错误")
    assert selectors.answer_open_edit(answer) == edit
    # and the lawyer may edit again
    services.answer_edit(lawyer=answer.lawyer, answer_id=answer.pk, body=AGAIN)
    assert _pending_edit(answer).number == 2


@pytest.mark.django_db
def test_an_edit_needs_its_own_reviewers_rounds(settings, staff, other_staff):
    # given an answer published after one round, and two rounds needed from now on
    answer = _published()
    AnswerReview.objects.create(answer=answer, reviewer=staff, round=1, approved=True)
    settings.QA_ANSWER_REVIEW_ROUNDS = 2
    services.answer_edit(lawyer=answer.lawyer, answer_id=answer.pk, body=EDITED)
    # when the reviewer of the first text approves the edit (allowed: it is another text)
    services.answer_review(staff=staff, answer_id=answer.pk, approve=True)
    # then one round is not enough, and the same reviewer cannot take the second
    assert Answer.objects.get(pk=answer.pk).body == PUBLISHED
    with pytest.raises(errors.AlreadyReviewed):
        services.answer_review(staff=staff, answer_id=answer.pk, approve=True)
    services.answer_review(staff=other_staff, answer_id=answer.pk, approve=True)
    assert Answer.objects.get(pk=answer.pk).body == EDITED


# --- one pending edit; edits that change nothing ------------------------------------------
@pytest.mark.django_db
def test_a_second_edit_replaces_the_pending_one():
    # given
    answer = _published()
    services.answer_edit(lawyer=answer.lawyer, answer_id=answer.pk, body=EDITED)
    # when
    services.answer_edit(lawyer=answer.lawyer, answer_id=answer.pk, body=AGAIN)
    # then one edit waits, the newest; the first is kept as replaced
    first, second = selectors.answer_history(answer.pk)
    assert (first.status, second.status, second.body) == ("replaced", "pending", AGAIN)
    assert second.previous_body == PUBLISHED
    # and the legal bases left out stay as last written
    assert second.legal_bases == first.legal_bases


@pytest.mark.django_db
def test_an_edit_back_to_the_published_text_withdraws_the_pending_edit():
    # given
    answer = _published()
    services.answer_edit(lawyer=answer.lawyer, answer_id=answer.pk, body=EDITED)
    # when
    services.answer_edit(lawyer=answer.lawyer, answer_id=answer.pk, body=PUBLISHED)
    # then
    assert list(AnswerRevision.objects.values_list("status", flat=True)) == ["replaced"]
    assert not selectors.answers_pending_review().exists()


@pytest.mark.django_db
def test_an_edit_that_changes_nothing_records_nothing():
    # given
    answer = _published()
    # when: the same text (spaces around it are not text), and an empty edit
    services.answer_edit(lawyer=answer.lawyer, answer_id=answer.pk, body=f"  {PUBLISHED}\n")
    services.answer_edit(lawyer=answer.lawyer, answer_id=answer.pk)
    # then
    assert not AnswerRevision.objects.exists()
    assert Answer.objects.get(pk=answer.pk).revision == 0


# --- an answer still waiting for review ---------------------------------------------------
@pytest.mark.django_db
def test_editing_an_answer_under_review_replaces_its_text_and_restarts_the_review(
    settings, question, verified_lawyer, staff
):
    # given an answer needing two rounds, approved once
    settings.QA_ANSWER_REVIEW_ROUNDS = 2
    answer = services.answer_create(lawyer=verified_lawyer, question_id=question.pk, body=PUBLISHED)
    services.answer_review(staff=staff, answer_id=answer.pk, approve=True)
    # when its lawyer edits it
    services.answer_edit(lawyer=verified_lawyer, answer_id=answer.pk, body="放心,这个官司包赢。")
    # then the text under review is the new one, flagged as any answer is, reviewed afresh
    answer.refresh_from_db()
    assert (answer.status, answer.body, answer.approvals) == ("pending", "放心,这个官司包赢。", 0)
    assert answer.is_flagged and answer.flags[0]["code"] == "outcome_promise"
    (edit,) = selectors.answer_history(answer.pk)
    assert (edit.status, edit.previous_body) == ("applied", PUBLISHED)
    # and the reviewer of the earlier text may review this one
    services.answer_review(staff=staff, answer_id=answer.pk, approve=True, expected=1)
    assert Answer.objects.get(pk=answer.pk).approvals == 1


# --- who may edit what --------------------------------------------------------------------
@pytest.mark.django_db
def test_only_the_answers_own_lawyer_may_edit_it():
    answer = _published()
    with pytest.raises(NotFound):
        services.answer_edit(lawyer=LawyerProfileFactory().user, answer_id=answer.pk, body=EDITED)
    with pytest.raises(NotFound):
        services.answer_edit(lawyer=answer.lawyer, answer_id=answer.pk + 1000, body=EDITED)


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("status", "refusal"),
    [
        (Answer.Status.REMOVED, errors.AnswerRemoved),
        (Answer.Status.REJECTED, errors.AnswerNotEditable),
        (Answer.Status.WITHDRAWN, errors.AnswerNotEditable),
    ],
)
def test_removed_rejected_and_withdrawn_answers_cannot_be_edited(status, refusal):
    answer = _published(status=status)
    with pytest.raises(refusal):
        services.answer_edit(lawyer=answer.lawyer, answer_id=answer.pk, body=EDITED)
    with pytest.raises(refusal):
        services.answer_edit_check(lawyer=answer.lawyer, answer_id=answer.pk)
    assert not AnswerRevision.objects.exists()


@pytest.mark.django_db
def test_a_lawyer_no_longer_verified_or_gone_cannot_edit():
    # given two published answers: one lawyer's approval revoked, the other's account closed
    revoked, gone = _published(), _published()
    LawyerProfile.objects.filter(user=revoked.lawyer).update(
        verification=LawyerProfile.Verification.REJECTED
    )
    gone.lawyer.is_active = False
    gone.lawyer.save(update_fields=["is_active"])
    # when / then
    for answer in (revoked, gone):
        with pytest.raises(errors.LawyerNotVerified):
            services.answer_edit(lawyer=answer.lawyer, answer_id=answer.pk, body=EDITED)
    assert not AnswerRevision.objects.exists()


@pytest.mark.django_db
def test_a_lawyer_who_closes_their_account_leaves_no_edit_waiting():
    from accounts.services import user_delete
    from tests.factories import TEST_PASSWORD

    # given a published answer with an edit waiting
    answer = _published()
    services.answer_edit(lawyer=answer.lawyer, answer_id=answer.pk, body=EDITED)
    # when its lawyer closes their account
    user_delete(user=answer.lawyer, password=TEST_PASSWORD, confirmed=True, address="127.0.0.1")
    # then the answer stays as published, and nothing of theirs waits for review
    assert Answer.objects.get(pk=answer.pk).body == PUBLISHED
    assert _pending_edit_count() == 0
    assert not selectors.answers_pending_review().exists()


def _pending_edit_count() -> int:
    return AnswerRevision.objects.filter(status=AnswerRevision.Status.PENDING).count()


@pytest.mark.django_db
def test_an_answer_to_a_hidden_question_cannot_be_edited():
    answer = _published()
    Question.objects.filter(pk=answer.question_id).update(status=Question.Status.HIDDEN)
    with pytest.raises(errors.QuestionNotAnswerable):
        services.answer_edit(lawyer=answer.lawyer, answer_id=answer.pk, body=EDITED)


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("body", "bases", "refusal"),
    [
        ("太短了", None, errors.InvalidAnswer),
        ("长" * 10001, None, errors.InvalidAnswer),
        ("          ", None, errors.InvalidAnswer),
        (None, [{"statute": "刑法", "article": "某条"}], errors.InvalidLegalBasis),
    ],
)
def test_an_edit_is_checked_as_an_answer_is(body, bases, refusal):
    answer = _published()
    with pytest.raises(refusal):
        services.answer_edit(
            lawyer=answer.lawyer, answer_id=answer.pk, body=body, legal_bases=bases
        )
    assert not AnswerRevision.objects.exists()


@pytest.mark.django_db
def test_withdrawing_or_removing_an_answer_drops_its_pending_edit(staff):
    # given two published answers, each with an edit waiting
    withdrawn, removed = _published(), _published()
    for answer in (withdrawn, removed):
        services.answer_edit(lawyer=answer.lawyer, answer_id=answer.pk, body=EDITED)
    # when one is withdrawn and the other removed after a report
    services.answer_withdraw(lawyer=withdrawn.lawyer, answer_id=withdrawn.pk)
    report = Report.objects.create(
        reporter=AskerFactory(), target_type="answer", target_id=removed.pk, reason="misleading"
    )
    services.report_decide(staff=staff, report_id=report.pk, upheld=True)
    # then neither edit waits for review any more
    assert set(AnswerRevision.objects.values_list("status", flat=True)) == {"canceled"}
    assert not selectors.answers_pending_review().exists()


# --- a review racing an edit --------------------------------------------------------------
@pytest.mark.django_db
def test_a_review_of_text_the_lawyer_changed_since_is_refused(staff):
    # given a reviewer who read edit 1, and the lawyer's edit 2 since
    answer = _published()
    services.answer_edit(lawyer=answer.lawyer, answer_id=answer.pk, body=EDITED)
    services.answer_edit(lawyer=answer.lawyer, answer_id=answer.pk, body=AGAIN)
    # when / then
    with pytest.raises(errors.AnswerChanged):
        services.answer_review(staff=staff, answer_id=answer.pk, approve=True, expected=1)
    assert not AnswerReview.objects.exists()
    assert Answer.objects.get(pk=answer.pk).body == PUBLISHED


def _lock_waiters() -> int:
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM pg_locks WHERE NOT granted")
        return cursor.fetchone()[0]


def _wait_for_lock_waiters(count: int) -> None:
    deadline = time.monotonic() + 10
    while _lock_waiters() < count:
        assert time.monotonic() < deadline, "the call never waited for the answer's lock"
        time.sleep(0.01)


def _in_thread(call, results: dict, name: str) -> threading.Thread:
    def run():
        try:
            results[name] = call()
        except Exception as exc:  # noqa: BLE001 - the outcome is what the test checks
            results[name] = exc
        finally:
            connection.close()

    thread = threading.Thread(target=run)
    thread.start()
    return thread


@pytest.mark.django_db(transaction=True)
def test_an_approval_queued_behind_an_edit_never_publishes_the_text_it_did_not_see():
    # given a published answer with edit 1 waiting, which the reviewer read
    answer = _published()
    lawyer, staff = answer.lawyer, StaffFactory()
    services.answer_edit(lawyer=lawyer, answer_id=answer.pk, body=EDITED)
    results: dict = {}
    # when, while the answer's row is busy, the lawyer's new edit queues for it first and the
    # reviewer's approval of edit 1 right behind it
    with transaction.atomic():
        Answer.objects.select_for_update().get(pk=answer.pk)
        edit = _in_thread(
            lambda: services.answer_edit(lawyer=lawyer, answer_id=answer.pk, body=AGAIN),
            results,
            "edit",
        )
        _wait_for_lock_waiters(1)
        review = _in_thread(
            lambda: services.answer_review(
                staff=staff, answer_id=answer.pk, approve=True, expected=1
            ),
            results,
            "review",
        )
        _wait_for_lock_waiters(2)
    edit.join(30)
    review.join(30)
    # then the edit went through and the approval, of a text no longer waiting, was refused
    assert isinstance(results["edit"], Answer), results
    assert isinstance(results["review"], errors.AnswerChanged), results
    answer.refresh_from_db()
    assert (answer.body, _pending_edit(answer).body) == (PUBLISHED, AGAIN)


@pytest.mark.django_db(transaction=True)
def test_approvals_and_edits_at_the_same_moment_publish_only_what_the_reviewer_read():
    staff = StaffFactory()
    for _ in range(8):
        # given a published answer whose edit 1 the reviewer read
        answer = _published()
        services.answer_edit(lawyer=answer.lawyer, answer_id=answer.pk, body=EDITED)
        # when the lawyer edits again as the reviewer approves edit 1
        edited, reviewed = run_at_once(
            [
                lambda a=answer: services.answer_edit(lawyer=a.lawyer, answer_id=a.pk, body=AGAIN),
                lambda a=answer: services.answer_review(
                    staff=staff, answer_id=a.pk, approve=True, expected=1
                ),
            ]
        )
        # then either the approval came first (edit 1 published, edit 2 waits), or the edit
        # did and the approval was refused; the new text is never published unreviewed
        answer.refresh_from_db()
        assert answer.body != AGAIN
        assert _pending_edit(answer).body == AGAIN
        assert isinstance(edited, Answer), edited
        if isinstance(reviewed, errors.AnswerChanged):
            assert answer.body == PUBLISHED
        else:
            assert isinstance(reviewed, Answer), reviewed
            assert answer.body == EDITED
