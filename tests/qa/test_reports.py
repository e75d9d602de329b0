"""Reports (投诉/举报) and their staff decisions (qa.services)."""

import pytest
from django.utils import translation

from config.errors import NotFound
from marketplace.models import Question
from qa import errors, services
from qa.models import Answer, ModerationDecision, Report
from tests.factories import AskerFactory, LawyerProfileFactory, StaffFactory
from tests.qa.factories import AnswerFactory, PublicQuestionFactory, resolved_consult

pytestmark = pytest.mark.django_db


def report(user, target_type, target_id, reason="spam", details=""):
    return services.report_create(
        reporter=user, target_type=target_type, target_id=target_id, reason=reason, details=details
    )


def test_a_reader_reports_a_question_an_answer_and_a_lawyer(answer, other_asker):
    # when
    reports = [
        report(other_asker, "question", answer.question_id),
        report(other_asker, "answer", answer.pk, reason="misleading"),
        report(other_asker, "lawyer", answer.lawyer_id, reason="misconduct"),
    ]
    # then
    assert [r.status for r in reports] == ["open"] * 3
    assert Report.objects.filter(reporter=other_asker).count() == 3


def test_an_open_report_reads_awaiting_handling_not_awaiting_an_answer(answer, other_asker):
    # given
    created = report(other_asker, "answer", answer.pk)
    # when
    with translation.override("zh-hans"):
        shown = created.get_status_display()
        open_question = Question(status=Question.Status.OPEN).get_status_display()
    # then: an open public question waits for an answer (待解答), an open report for staff
    assert shown == "待处理"
    assert open_question == "待解答"


def test_a_participant_reports_a_message_of_the_other_side():
    # given
    consult = resolved_consult(replies=["加我微信私下付款,便宜一半"])
    message = consult.conversation.messages.get()
    # when
    created = report(consult.asker, "message", message.pk, reason="fraud")
    # then
    assert created.target_type == "message"


def test_nobody_outside_the_conversation_can_report_its_messages():
    # given
    consult = resolved_consult(replies=["您好,请描述一下情况"])
    message = consult.conversation.messages.get()
    # when / then
    with pytest.raises(NotFound):
        report(AskerFactory(), "message", message.pk)


def test_hidden_pending_and_private_things_cannot_be_reported(question, other_asker):
    # given
    pending = AnswerFactory(question=question, status=Answer.Status.PENDING)
    private = PublicQuestionFactory(is_public=False)
    unverified_lawyer = LawyerProfileFactory().user
    # when / then
    for target_type, target_id in (
        ("answer", pending.pk),
        ("question", private.pk),
        ("lawyer", 999999),
    ):
        with pytest.raises(NotFound):
            report(other_asker, target_type, target_id)
    assert report(
        other_asker, "lawyer", unverified_lawyer.pk
    )  # lawyers are reportable in any state


def test_reporting_the_same_thing_twice_is_refused_while_open(question, other_asker):
    # given
    report(other_asker, "question", question.pk)
    # when / then
    with pytest.raises(errors.AlreadyReported):
        report(other_asker, "question", question.pk, reason="abuse")


def test_a_report_needs_a_known_reason_and_details_for_other(question, other_asker):
    # when / then
    with pytest.raises(errors.InvalidReport):
        report(other_asker, "question", question.pk, reason="boring")
    with pytest.raises(errors.InvalidReport):
        report(other_asker, "question", question.pk, reason="other")


def test_nobody_reports_their_own_answer(answer):
    # when / then
    with pytest.raises(errors.OwnAnswer):
        report(answer.lawyer, "answer", answer.pk)


def test_repeat_reporters_are_rate_limited(settings, other_asker):
    # given
    settings.QA_REPORTS_PER_HOUR = 3
    questions = [PublicQuestionFactory() for _ in range(4)]
    for q in questions[:3]:
        report(other_asker, "question", q.pk)
    # when / then
    with pytest.raises(errors.ReportRateLimited):
        report(other_asker, "question", questions[3].pk)
    assert Report.objects.filter(reporter=other_asker).count() == 3


def test_staff_are_not_rate_limited(settings, staff):
    # given
    settings.QA_REPORTS_PER_HOUR = 1
    questions = [PublicQuestionFactory() for _ in range(3)]
    # when
    for q in questions:
        report(staff, "question", q.pk)
    # then
    assert Report.objects.filter(reporter=staff).count() == 3


def test_upholding_a_report_on_a_question_hides_it_and_decides_every_report_on_it(question, staff):
    # given
    first = report(AskerFactory(), "question", question.pk)
    second = report(AskerFactory(), "question", question.pk, reason="abuse")
    # when
    decision = services.report_decide(staff=staff, report_id=first.pk, upheld=True, note="广告")
    # then
    question.refresh_from_db()
    assert question.status == Question.Status.HIDDEN
    assert decision.action == ModerationDecision.Action.QUESTION_HIDDEN
    assert set(Report.objects.values_list("pk", "status", "decision")) == {
        (first.pk, "upheld", decision.pk),
        (second.pk, "upheld", decision.pk),
    }


def test_upholding_a_report_on_an_answer_removes_it_and_its_helpful_marks_stop_counting(
    answer, asker, staff
):
    # given
    services.answer_mark_helpful(user=asker, answer_id=answer.pk)
    filed = report(AskerFactory(), "answer", answer.pk, reason="misleading")
    # when
    services.report_decide(staff=staff, report_id=filed.pk, upheld=True)
    # then
    assert Answer.objects.get(pk=answer.pk).status == Answer.Status.REMOVED
    assert Question.objects.get(pk=answer.question_id).helped_count == 0


def test_dismissing_a_report_changes_nothing_but_is_recorded(question, staff):
    # given
    filed = report(AskerFactory(), "question", question.pk)
    # when
    decision = services.report_decide(
        staff=staff, report_id=filed.pk, upheld=False, note="正常提问"
    )
    # then
    question.refresh_from_db()
    assert question.status == Question.Status.OPEN
    assert (decision.outcome, decision.staff, decision.note) == ("dismissed", staff, "正常提问")
    with pytest.raises(errors.ReportAlreadyDecided):
        services.report_decide(staff=StaffFactory(), report_id=filed.pk, upheld=True)


def test_after_a_decision_the_same_reader_may_report_again(question, other_asker, staff):
    # given
    filed = report(other_asker, "question", question.pk)
    services.report_decide(staff=staff, report_id=filed.pk, upheld=False)
    # when
    again = report(other_asker, "question", question.pk, reason="abuse")
    # then
    assert again.status == "open"
