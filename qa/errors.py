"""Stable error codes of the public Q&A and moderation (tests import these)."""

from django.utils.translation import gettext_lazy as _

from config.errors import Conflict, Forbidden, InvalidInput, RateLimited


class LawyerNotVerified(Forbidden):
    code = "lawyer_not_verified"
    message = _("Only verified lawyers can answer public questions.")


class QuestionNotAnswerable(Conflict):
    code = "question_not_answerable"
    message = _("This question no longer takes answers.")


class AlreadyAnswered(Conflict):
    code = "already_answered"
    message = _("You have already answered this question.")


class InvalidAnswer(InvalidInput):
    code = "invalid_answer"
    message = _("Write an answer of 10 to 10,000 characters.")


class InvalidLegalBasis(InvalidInput):
    code = "invalid_legal_basis"
    message = _(
        "Give each legal basis as a statute and an article, e.g. 《刑法》 and 第二百六十四条."
    )


class ReasonRequired(InvalidInput):
    code = "reason_required"
    message = _("Give a reason.")


class AnswerNotPending(Conflict):
    code = "answer_not_pending"
    message = _("This answer is not waiting for review.")


class AnswerNotWithdrawable(Conflict):
    code = "answer_not_withdrawable"
    message = _("Only an answer waiting for review or published can be withdrawn.")


class AnswerNotEditable(Conflict):
    code = "answer_not_editable"
    message = _(
        "Only an answer waiting for review or published can be edited; write a new answer "
        "to the question instead."
    )


class AnswerRemoved(Conflict):
    code = "answer_removed"
    message = _("This answer was removed after a report and cannot be edited.")


class AnswerChanged(Conflict):
    code = "answer_changed"
    message = _(
        "The lawyer changed this answer while you were reviewing it. Read the new text and "
        "decide again."
    )


class AlreadyReviewed(Conflict):
    code = "already_reviewed"
    message = _("You already reviewed this answer; another reviewer must take the next round.")


class OwnAnswer(Forbidden):
    code = "own_answer"
    message = _("You cannot do that to your own answer.")


class InvalidReport(InvalidInput):
    code = "invalid_report"
    message = _("Choose what you report and why.")


# the details are optional except for the reason "Other", which says nothing by itself
REPORT_OTHER_NEEDS_DETAILS = _("When you choose “Other”, say what is wrong.")
REPORT_OWN = _("You cannot report yourself or what you wrote.")


class AlreadyReported(Conflict):
    code = "already_reported"
    message = _("You have already reported this; our team will look at it.")


class ReportRateLimited(RateLimited):
    code = "report_rate_limited"
    message = _("You have sent many reports recently. Please try again later.")


class ReportAlreadyDecided(Conflict):
    code = "report_already_decided"
    message = _("This report has already been decided.")


class ConsultNotClosed(Conflict):
    code = "consult_not_closed"
    message = _("Only a finished consultation can be published.")


class AlreadyPublished(Conflict):
    code = "already_published"
    message = _("This consultation has already been published.")


class PublishNotConfirmed(InvalidInput):
    code = "publish_not_confirmed"
    message = _("Confirm that you want to publish this consultation as an anonymous Q&A.")


class InvalidQuestionText(InvalidInput):
    code = "invalid_question"
    message = _("Give a title of up to 120 characters and a description.")
