"""Platform notices: the texts the platform itself sends into a user's Lawline inbox.

A notice is stored with its kind and parameters (`Message.notice`) and its text rendered in the
default language (`Message.body`), so the socket can deliver it as is and the API can render it
again in the reader's language.

What callers pass as `context` (ids and amounts only, so it may travel as task arguments):

| kind              | context                                                |
|-------------------|--------------------------------------------------------|
| `welcome`         | nothing (an asker's)                                   |
| `welcome_lawyer`  | nothing (a lawyer's)                                   |
| `welcome_lawyer_verified` | nothing (a lawyer verified from the start: staff-made, the demo's) |
| `consult_matched` | `{"consult": id}` (the consult has its lawyer)         |
| `consult_expired` | `{"consult": id}` (a paid consult: nothing was charged) |
| `consult_expired_free` | `{"consult": id}` (a free consult)                |
| `refund_done`     | `{"consult": id, "amount": minor units, "currency": "CNY"}` |
| `lawyer_verified` | `{"decision": id}` (staff approved the lawyer's licence) |
| `lawyer_rejected` | `{"decision": id}` (staff rejected it; the reason is read from the decision) |
| `answer_published` | `{"answer": id}` (the lawyer's public answer passed review) |
| `answer_rejected` | `{"answer": id}` (a reviewer rejected it; the reason is read from the answer) |
| `answer_removed`  | `{"answer": id}` (staff upheld a report on it and took it down) |
| `answer_edit_published` | `{"revision": id}` (an edit of a published answer passed review and replaced its text) |
| `answer_edit_rejected` | `{"revision": id}` (a reviewer rejected the edit; the published text stays; the reason is read from the edit) |
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from accounts.models import User
from config.money import format_money
from messaging.errors import InvalidNotice

WELCOME = "welcome"
WELCOME_LAWYER = "welcome_lawyer"
WELCOME_LAWYER_VERIFIED = "welcome_lawyer_verified"
CONSULT_MATCHED = "consult_matched"
CONSULT_EXPIRED = "consult_expired"
CONSULT_EXPIRED_FREE = "consult_expired_free"
REFUND_DONE = "refund_done"
LAWYER_VERIFIED = "lawyer_verified"
LAWYER_REJECTED = "lawyer_rejected"
ANSWER_PUBLISHED = "answer_published"
ANSWER_REJECTED = "answer_rejected"
ANSWER_REMOVED = "answer_removed"
ANSWER_EDIT_PUBLISHED = "answer_edit_published"
ANSWER_EDIT_REJECTED = "answer_edit_rejected"

# how much of a question's title a notice quotes
TITLE_QUOTED_CHARS = 40
# what may end a reviewer's reason; the notice's text ends the sentence itself, in the
# reader's language (a Chinese reason must not end "。" and then an ASCII space)
SENTENCE_ENDINGS = " \t\r\n.。．!！?？;；,，、"


# ISO 4217 currencies without minor units among those a payment gateway may report
def _consult_id(context: Mapping[str, Any]) -> int:
    consult = context.get("consult")
    if not isinstance(consult, int) or isinstance(consult, bool) or consult <= 0:
        raise InvalidNotice()
    return consult


def _welcome_params(user: User, context: Mapping[str, Any]) -> dict[str, Any]:
    return {"name": user.display_name}


def _matched_params(user: User, context: Mapping[str, Any]) -> dict[str, Any]:
    from marketplace.models import Consult

    consult_id = _consult_id(context)
    consult = (
        Consult.objects.select_related("lawyer").filter(pk=consult_id, asker_id=user.pk).first()
    )
    if consult is None or consult.lawyer is None:
        raise InvalidNotice()
    return {"consult": consult_id, "lawyer": consult.lawyer.display_name}


def _consult_params(user: User, context: Mapping[str, Any]) -> dict[str, Any]:
    return {"consult": _consult_id(context)}


def _refund_params(user: User, context: Mapping[str, Any]) -> dict[str, Any]:
    amount, currency = context.get("amount"), context.get("currency")
    if not isinstance(amount, int) or isinstance(amount, bool) or amount < 0:
        raise InvalidNotice()
    if not isinstance(currency, str) or len(currency) != 3 or not currency.isalpha():
        raise InvalidNotice()
    return {"consult": _consult_id(context), "amount": amount, "currency": currency.upper()}


def _decision_params(user: User, context: Mapping[str, Any]) -> dict[str, Any]:
    from marketplace.models import VerificationDecision

    decision_id = context.get("decision")
    if not isinstance(decision_id, int) or isinstance(decision_id, bool):
        raise InvalidNotice()
    decision = VerificationDecision.objects.filter(pk=decision_id, profile__user_id=user.pk).first()
    if decision is None:
        raise InvalidNotice()
    return {"decision": decision_id, "reason": decision.reason}


def _answer_params(user: User, context: Mapping[str, Any]) -> dict[str, Any]:
    from qa.models import Answer

    answer_id = context.get("answer")
    if not isinstance(answer_id, int) or isinstance(answer_id, bool):
        raise InvalidNotice()
    answer = (
        Answer.objects.filter(pk=answer_id, lawyer_id=user.pk)
        .values("question_id", "question__title", "rejection_reason")
        .first()
    )
    if answer is None:
        raise InvalidNotice()
    return {
        "answer": answer_id,
        "question": answer["question_id"],
        "title": _quoted_title(answer["question__title"]),
        "reason": answer["rejection_reason"],
    }


def _quoted_title(title: str) -> str:
    from qa.masking import mask_personal_data

    title = mask_personal_data(title)
    if len(title) > TITLE_QUOTED_CHARS:
        title = title[: TITLE_QUOTED_CHARS - 1] + "…"
    return title


def _edit_params(user: User, context: Mapping[str, Any]) -> dict[str, Any]:
    from qa.models import AnswerRevision

    revision_id = context.get("revision")
    if not isinstance(revision_id, int) or isinstance(revision_id, bool):
        raise InvalidNotice()
    edit = (
        AnswerRevision.objects.filter(pk=revision_id, answer__lawyer_id=user.pk)
        .values("answer_id", "answer__question_id", "answer__question__title", "rejection_reason")
        .first()
    )
    if edit is None:
        raise InvalidNotice()
    return {
        "revision": revision_id,
        "answer": edit["answer_id"],
        "question": edit["answer__question_id"],
        "title": _quoted_title(edit["answer__question__title"]),
        "reason": edit["rejection_reason"],
    }


@dataclass(frozen=True)
class NoticeKind:
    text: Promise
    resolve: Callable[[User, Mapping[str, Any]], dict[str, Any]]

    def key(self, kind: str, params: Mapping[str, Any]) -> str:
        """What makes a notice unique in its inbox: a retried task never sends it twice."""
        # an answer is edited many times: an edit's notices are keyed by the edit
        for subject in ("revision", "consult", "decision", "answer"):
            if subject in params:
                return f"{kind}:{params[subject]}"
        return kind


NOTICE_KINDS: dict[str, NoticeKind] = {
    WELCOME: NoticeKind(
        _(
            "Welcome to Lawline, %(name)s! Ask a question and a lawyer near you answers within "
            "minutes. A paid consultation is charged only if a lawyer replies in time."
        ),
        _welcome_params,
    ),
    WELCOME_LAWYER: NoticeKind(
        _(
            "Welcome to Lawline, %(name)s! Complete your profile so staff can verify your "
            "licence, then go online on your workbench to receive consultations."
        ),
        _welcome_params,
    ),
    WELCOME_LAWYER_VERIFIED: NoticeKind(
        _(
            "Welcome to Lawline, %(name)s! Your licence is verified: go online on your "
            "workbench to receive consultations for your regions and practice areas."
        ),
        _welcome_params,
    ),
    CONSULT_MATCHED: NoticeKind(
        _("Lawyer %(lawyer)s has taken your consultation #%(consult)s. You can chat now."),
        _matched_params,
    ),
    CONSULT_EXPIRED: NoticeKind(
        _(
            "No lawyer replied to your consultation #%(consult)s in time. It is closed and you "
            "have not been charged."
        ),
        _consult_params,
    ),
    CONSULT_EXPIRED_FREE: NoticeKind(
        _(
            "No lawyer replied to your free consultation #%(consult)s in time, so it is closed. "
            "You can ask again at any time."
        ),
        _consult_params,
    ),
    LAWYER_VERIFIED: NoticeKind(
        _(
            "Your licence is verified. Go online on your workbench to receive consultations "
            "for your regions and practice areas."
        ),
        _decision_params,
    ),
    LAWYER_REJECTED: NoticeKind(
        _(
            "Staff could not verify your profile: %(reason)s. Correct it on your profile page "
            "and submit it again."
        ),
        _decision_params,
    ),
    ANSWER_PUBLISHED: NoticeKind(
        _("Your answer to “%(title)s” passed review and is now on the question's public page."),
        _answer_params,
    ),
    ANSWER_REJECTED: NoticeKind(
        _(
            "Your answer to “%(title)s” was not published: %(reason)s. You may answer the "
            "question again."
        ),
        _answer_params,
    ),
    ANSWER_REMOVED: NoticeKind(
        _(
            "Your answer to “%(title)s” was reported, and after review staff removed it from "
            "the public page."
        ),
        _answer_params,
    ),
    ANSWER_EDIT_PUBLISHED: NoticeKind(
        _(
            "Your edit of your answer to “%(title)s” passed review: the question's page now "
            "shows the new text."
        ),
        _edit_params,
    ),
    ANSWER_EDIT_REJECTED: NoticeKind(
        _(
            "Your edit of your answer to “%(title)s” was not accepted: %(reason)s. The "
            "published text stays; you may edit it again."
        ),
        _edit_params,
    ),
    REFUND_DONE: NoticeKind(
        _(
            "Your refund of %(amount)s for consultation #%(consult)s is done. It reaches your "
            "account within a few working days."
        ),
        _refund_params,
    ),
}


def welcome_kind(user: User) -> str:
    """An asker's welcome, or a lawyer's: asked to complete the profile, unless already
    verified."""
    if not user.is_lawyer:
        return WELCOME
    from marketplace.models import LawyerProfile

    verified = LawyerProfile.objects.filter(
        user_id=user.pk, verification=LawyerProfile.Verification.VERIFIED
    ).exists()
    return WELCOME_LAWYER_VERIFIED if verified else WELCOME_LAWYER


def notice_kind(kind: str) -> NoticeKind:
    spec = NOTICE_KINDS.get(kind)
    if spec is None:
        raise InvalidNotice()
    return spec


def notice_text(*, notice: Mapping[str, Any] | None, body: str) -> str:
    """A stored message's text for the reader: a notice in the active language, the stored
    `body` (default language) when it is no notice or can no longer be rendered."""
    if notice:
        try:
            return render_notice(notice["kind"], notice["params"])
        except (KeyError, TypeError, ValueError):
            return body
    return body


def notice_link(notice: Mapping[str, Any] | None) -> str | None:
    """Where a notice leads its reader: the consult, the question, the page to act on."""
    from django.urls import reverse

    if not notice:
        return None
    kind, params = notice.get("kind"), notice.get("params") or {}
    if kind in (ANSWER_PUBLISHED, ANSWER_REJECTED) and params.get("question"):
        return reverse("qa:question", args=[params["question"]])
    if kind == ANSWER_REMOVED:
        return reverse("qa:my_answers")
    if kind == ANSWER_EDIT_PUBLISHED and params.get("question"):
        return reverse("qa:question", args=[params["question"]]) + f"#answer-{params['answer']}"
    if kind == ANSWER_EDIT_REJECTED and params.get("question"):
        # where the reason shows beside the edit link
        return reverse("qa:question", args=[params["question"]]) + "#your-answer"
    if kind == LAWYER_REJECTED:
        return reverse("lawyer_profile")
    if kind == LAWYER_VERIFIED:
        return reverse("pages:workbench")
    if params.get("consult"):
        return reverse("pages:consult", args=[params["consult"]])
    return None


def render_notice(kind: str, params: Mapping[str, Any]) -> str:
    """The notice's text in the active language."""
    values = dict(params)
    if kind == REFUND_DONE:
        values["amount"] = format_money(int(values["amount"]), str(values["currency"]))
    if "reason" in values:
        values["reason"] = str(values["reason"]).rstrip(SENTENCE_ENDINGS)
    return str(notice_kind(kind).text) % values
