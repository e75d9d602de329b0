"""The public Q&A API: answers, likes, helpful marks, similar questions, reports, moderation,
publishing a finished consult. Public text leaves masked (qa.masking); a lawyer's own answers
come back verbatim."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from django.contrib.auth.models import AnonymousUser
from django.http import HttpRequest
from django.urls import reverse
from ninja import Field, Query, Router, Schema, Status

from accounts.api_auth import bearer_token, signed_in
from accounts.roles import require_role, require_staff
from marketplace.models import Question
from qa import selectors, services
from qa.masking import mask_personal_data
from qa.models import Answer, LegalBasis
from qa.templatetags.qa_display import person_name

router = Router(tags=["public Q&A"])


def _anyone(request: HttpRequest) -> Any:
    """Public reads: a bearer token or the session if there is one, anonymous otherwise."""
    return request.user if request.user.is_authenticated else AnonymousUser()


maybe_signed_in = [bearer_token, _anyone]


class ErrorOut(Schema):
    code: str
    message: str
    fields: dict[str, str] | None = None


def errors(*statuses: int) -> dict[int, type[ErrorOut]]:
    """The error responses a route documents besides the common ones (config.api)."""
    return {status: ErrorOut for status in statuses}


class LegalBasisIn(Schema):
    statute: str = Field(..., max_length=80, examples=["刑法"])
    article: str = Field(..., max_length=40, examples=["第二百六十四条"])
    excerpt: str = Field("", max_length=2000)


class LegalBasisOut(Schema):
    statute: str
    article: str
    citation: str
    excerpt: str


class LawyerBrief(Schema):
    id: int
    name: str
    firm: str
    verified: bool


class AnswerIn(Schema):
    body: str = Field(..., max_length=10000)
    legal_bases: list[LegalBasisIn] = []


class AnswerEditIn(Schema):
    body: str | None = Field(None, max_length=10000)
    legal_bases: list[LegalBasisIn] | None = None


class AnswerOut(Schema):
    id: int
    question: int
    lawyer: LawyerBrief
    body: str
    legal_bases: list[LegalBasisOut]
    like_count: int
    helpful_count: int
    asker_found_helpful: bool
    liked: bool
    marked_helpful: bool
    published_at: datetime | None
    edited_at: datetime | None


class OwnEditOut(Schema):
    revision: int
    status: str
    body: str
    legal_bases: list[LegalBasisOut]
    flags: list[dict[str, str]]
    rejection_reason: str
    created_at: datetime


class OwnAnswerOut(Schema):
    id: int
    question: int
    question_title: str
    body: str
    status: str
    approvals: int
    review_rounds_required: int
    rejection_reason: str
    flags: list[dict[str, str]]
    legal_bases: list[LegalBasisOut]
    like_count: int
    helpful_count: int
    created_at: datetime
    published_at: datetime | None
    revision: int
    edited_at: datetime | None
    edit: OwnEditOut | None


class QuestionBrief(Schema):
    id: int
    title: str
    excerpt: str
    url: str
    city: str
    city_name: str
    category: str
    category_name: str
    answer_count: int
    view_count: int
    helped_count: int
    created_at: datetime


class SimilarFilter(Schema):
    text: str = Field("", max_length=500)
    city: str | None = Field(None, description="a city or province code")
    category: str | None = Field(None, description="a category slug")
    limit: int = Field(5, ge=1, le=20)


class LikeOut(Schema):
    liked: bool
    like_count: int


class HelpfulOut(Schema):
    marked_helpful: bool
    helped_count: int


class ReportIn(Schema):
    target_type: Literal["question", "answer", "message", "lawyer"]
    target_id: int = Field(..., ge=1, le=2**63 - 1)
    reason: str
    details: str = Field("", max_length=1000)


class ReportOut(Schema):
    id: int
    target_type: str
    target_id: int
    reason: str
    status: str
    created_at: datetime


class ReviewIn(Schema):
    approve: bool
    reason: str = Field("", max_length=500)
    expected: int | None = Field(
        None,
        ge=0,
        description="the answer's `revision` you read in the queue: if the lawyer edited the "
        "answer since, 409 answer_changed and nothing is recorded",
    )


class EditUnderReview(Schema):
    submitted_at: datetime
    published_body: str
    published_legal_bases: list[LegalBasisOut]


class ReviewQueueItem(Schema):
    id: int
    question: int
    question_title: str
    lawyer: LawyerBrief
    body: str
    legal_bases: list[LegalBasisOut]
    flags: list[dict[str, str]]
    is_flagged: bool
    approvals: int
    review_rounds_required: int
    reviewed_by: list[int]
    from_consult: bool
    created_at: datetime
    revision: int
    edit: EditUnderReview | None


class EditReviewOut(Schema):
    revision: int
    status: str
    approvals: int
    review_rounds_required: int
    rejection_reason: str


class ReviewOut(Schema):
    id: int
    status: str
    approvals: int
    review_rounds_required: int
    rejection_reason: str
    revision: int
    edit: EditReviewOut | None


class RevisionOut(Schema):
    revision: int
    status: str
    body: str
    legal_bases: list[dict[str, str]]
    previous_body: str
    previous_legal_bases: list[dict[str, str]]
    flags: list[dict[str, str]]
    approvals: int
    review_rounds_required: int
    rejection_reason: str
    created_at: datetime
    decided_at: datetime | None


class DecideIn(Schema):
    outcome: Literal["upheld", "dismissed"]
    note: str = Field("", max_length=1000)


class DecisionOut(Schema):
    id: int
    target_type: str
    target_id: int
    outcome: str
    action: str
    note: str
    reports_closed: int
    created_at: datetime


class ReportGroupOut(Schema):
    target_type: str
    target_id: int
    report_ids: list[int]
    reasons: list[str]
    details: list[str]
    first_reported_at: datetime
    summary: str


class PublishIn(Schema):
    title: str = Field(..., max_length=120)
    body: str = Field(..., max_length=20000)
    confirm: bool = False
    include_answer: bool = True


class PublishOut(Schema):
    question: int
    url: str
    answer_pending: bool


# --- shaping -------------------------------------------------------------------------------
def _lawyer_brief(user) -> dict:
    profile = getattr(user, "lawyer_profile", None)
    return {
        "id": user.pk,
        "name": person_name(user),
        "firm": profile.firm if profile else "",
        # a former user's answers stay, vouched for by nobody
        "verified": bool(profile and profile.is_verified and not user.is_deleted),
    }


def _bases(answer: Answer, *, masked: bool) -> list[dict]:
    rows: list[LegalBasis] = list(answer.legal_bases.all())
    return [
        {
            "statute": b.statute,
            "article": b.article,
            "citation": b.citation,
            "excerpt": mask_personal_data(b.excerpt) if masked else b.excerpt,
        }
        for b in rows
    ]


def _stored_bases(rows: list[dict[str, str]]) -> list[dict]:
    """An edit's legal bases (stored as data, verbatim) as the API shows cited ones."""
    return [
        {
            "statute": b["statute"],
            "article": b["article"],
            "citation": f"《{b['statute']}》{b['article']}",
            "excerpt": b.get("excerpt", ""),
        }
        for b in rows
    ]


def _public_answer(answer: Answer) -> dict:
    return {
        "id": answer.pk,
        "question": answer.question_id,
        "lawyer": _lawyer_brief(answer.lawyer),
        "body": mask_personal_data(answer.body),
        "legal_bases": _bases(answer, masked=True),
        "like_count": answer.like_count,
        "helpful_count": answer.helpful_count,
        "asker_found_helpful": bool(getattr(answer, "asker_found_helpful", False)),
        "liked": bool(getattr(answer, "liked", False)),
        "marked_helpful": bool(getattr(answer, "marked_helpful", False)),
        "published_at": answer.published_at,
        "edited_at": answer.edited_at,
    }


def _own_answer(answer: Answer) -> dict:
    edit = selectors.answer_open_edit(answer)
    return {
        "id": answer.pk,
        "question": answer.question_id,
        "question_title": answer.question.title,
        "body": answer.body,
        "status": answer.status,
        "approvals": answer.approvals,
        "review_rounds_required": answer.review_rounds_required,
        "rejection_reason": answer.rejection_reason,
        "flags": answer.flags,
        "legal_bases": _bases(answer, masked=False),
        "like_count": answer.like_count,
        "helpful_count": answer.helpful_count,
        "created_at": answer.created_at,
        "published_at": answer.published_at,
        "revision": answer.revision,
        "edited_at": answer.edited_at,
        "edit": None
        if edit is None
        else {
            "revision": edit.number,
            "status": edit.status,
            "body": edit.body,
            "legal_bases": _stored_bases(edit.legal_bases),
            "flags": edit.flags,
            "rejection_reason": edit.rejection_reason,
            "created_at": edit.created_at,
        },
    }


def question_brief(question: Question) -> dict:
    return {
        "id": question.pk,
        "title": mask_personal_data(question.title),
        "excerpt": mask_personal_data(getattr(question, "excerpt", "") or ""),
        "url": reverse("qa:question", args=[question.pk]),
        "city": question.city_id,
        "city_name": question.city.name,
        "category": question.category.slug,
        "category_name": question.category.name,
        "answer_count": getattr(question, "answer_count", 0),
        "view_count": question.view_count,
        "helped_count": question.helped_count,
        "created_at": question.created_at,
    }


# --- questions -----------------------------------------------------------------------------
@router.get("/questions/similar", response={200: list[QuestionBrief], **errors(404)}, auth=None)
def similar_questions(request: HttpRequest, filters: Query[SimilarFilter]):
    """Public questions like `text` (Chinese is segmented), for the ask form as the user types.
    Optional filters: `city` (a city or province code) and `category` (slug)."""
    if len(filters.text.strip()) < 2:
        return []
    found = selectors.questions_similar(
        text=filters.text,
        region=selectors.region_by_code(filters.city),
        category=selectors.category_by_slug(filters.category),
        limit=filters.limit,
    )
    return [question_brief(q) for q in found]


@router.get(
    "/questions/{question_id}/related",
    response={200: list[QuestionBrief], **errors(404)},
    auth=None,
)
def related_questions(request: HttpRequest, question_id: int):
    question = selectors.question_public(question_id)
    return [question_brief(q) for q in selectors.questions_related(question)]


@router.get(
    "/questions/{question_id}/answers",
    response={200: list[AnswerOut], **errors(404)},
    auth=maybe_signed_in,
)
def question_answers(request: HttpRequest, question_id: int):
    """The approved answers of a public question, most helpful first."""
    question = selectors.question_public(question_id)
    viewer = request.user if request.user.is_authenticated else None
    return [_public_answer(a) for a in selectors.answers_for_question(question, viewer)]


@router.post(
    "/questions/{question_id}/answers",
    response={201: OwnAnswerOut, **errors(403, 404, 409, 422)},
    auth=signed_in,
)
def answer_question(request: HttpRequest, question_id: int, payload: AnswerIn):
    """A verified lawyer answers; the answer shows once staff approve it."""
    require_role(request.user, "lawyer")  # type: ignore[arg-type]
    answer = services.answer_create(
        lawyer=request.user,  # type: ignore[arg-type]
        question_id=question_id,
        body=payload.body,
        legal_bases=[b.dict() for b in payload.legal_bases],
    )
    answer = selectors.answers_of_lawyer(request.user).get(pk=answer.pk)  # type: ignore[arg-type]
    return Status(201, _own_answer(answer))


@router.get("/lawyer/answers", response={200: list[OwnAnswerOut], **errors(403)}, auth=signed_in)
def my_answers(request: HttpRequest, status: str | None = None):
    """The signed-in lawyer's answers in every state, with rejection reasons."""
    require_role(request.user, "lawyer")  # type: ignore[arg-type]
    answers = selectors.answers_of_lawyer(request.user)  # type: ignore[arg-type]
    if status:
        answers = answers.filter(status=status)
    return [_own_answer(a) for a in answers[:200]]


@router.post(
    "/lawyer/answers/{answer_id}/withdraw",
    response={200: OwnAnswerOut, **errors(403, 404, 409)},
    auth=signed_in,
)
def withdraw_answer(request: HttpRequest, answer_id: int):
    """Take back one's own answer (waiting for review or published); the question may then be
    answered again. Another lawyer's answer is 404; one already closed is 409
    `answer_not_withdrawable`."""
    require_role(request.user, "lawyer")  # type: ignore[arg-type]
    services.answer_withdraw(lawyer=request.user, answer_id=answer_id)  # type: ignore[arg-type]
    answer = selectors.answers_of_lawyer(request.user).get(pk=answer_id)  # type: ignore[arg-type]
    return _own_answer(answer)


@router.patch(
    "/answers/{answer_id}",
    response={200: OwnAnswerOut, **errors(403, 404, 409, 422)},
    auth=signed_in,
)
def edit_answer(request: HttpRequest, answer_id: int, payload: AnswerEditIn):
    """Edit one's own answer: `body` and `legal_bases` (the cited list, replaced as a whole);
    either left out stays as last written. Checked as when answering. Waiting for review, the
    answer takes the text at once and is reviewed afresh; published, it keeps its text until
    staff approve the edit (`edit` shows it waiting, or rejected with the reason). Another
    lawyer's answer is 404; a rejected or withdrawn one 409 `answer_not_editable`, a removed
    one 409 `answer_removed`."""
    require_role(request.user, "lawyer")  # type: ignore[arg-type]
    services.answer_edit(
        lawyer=request.user,  # type: ignore[arg-type]
        answer_id=answer_id,
        body=payload.body,
        legal_bases=None
        if payload.legal_bases is None
        else [b.dict() for b in payload.legal_bases],
    )
    answer = selectors.answers_of_lawyer(request.user).get(pk=answer_id)  # type: ignore[arg-type]
    return _own_answer(answer)


# --- likes and helpful marks ---------------------------------------------------------------
@router.post(
    "/answers/{answer_id}/like",
    response={200: LikeOut, **errors(403, 404)},
    auth=signed_in,
)
def like(request: HttpRequest, answer_id: int):
    """Like once: liking again changes nothing."""
    count = services.answer_like(user=request.user, answer_id=answer_id)  # type: ignore[arg-type]
    return {"liked": True, "like_count": count}


@router.delete("/answers/{answer_id}/like", response={200: LikeOut, **errors(404)}, auth=signed_in)
def unlike(request: HttpRequest, answer_id: int):
    count = services.answer_unlike(user=request.user, answer_id=answer_id)  # type: ignore[arg-type]
    return {"liked": False, "like_count": count}


@router.post(
    "/answers/{answer_id}/helpful",
    response={200: HelpfulOut, **errors(403, 404)},
    auth=signed_in,
)
def mark_helpful(request: HttpRequest, answer_id: int):
    """This answer helped me; the question's `helped_count` counts distinct people."""
    helped = services.answer_mark_helpful(user=request.user, answer_id=answer_id)  # type: ignore[arg-type]
    return {"marked_helpful": True, "helped_count": helped}


@router.delete(
    "/answers/{answer_id}/helpful", response={200: HelpfulOut, **errors(404)}, auth=signed_in
)
def unmark_helpful(request: HttpRequest, answer_id: int):
    helped = services.answer_unmark_helpful(user=request.user, answer_id=answer_id)  # type: ignore[arg-type]
    return {"marked_helpful": False, "helped_count": helped}


# --- reports -------------------------------------------------------------------------------
@router.post(
    "/reports",
    response={201: ReportOut, **errors(403, 404, 409, 422, 429)},
    auth=signed_in,
)
def report(request: HttpRequest, payload: ReportIn):
    """投诉/举报 a question, an answer, a message of one of your conversations or a lawyer.
    `reason`: spam, abuse, privacy, misleading, fraud, illegal, infringement, misconduct or
    other (with details). Repeat reporters are rate-limited (429 `report_rate_limited`)."""
    created = services.report_create(
        reporter=request.user,  # type: ignore[arg-type]
        target_type=payload.target_type,
        target_id=payload.target_id,
        reason=payload.reason,
        details=payload.details,
    )
    return Status(201, created)


# --- staff moderation ----------------------------------------------------------------------
@router.get(
    "/admin/moderation/answers",
    response={200: list[ReviewQueueItem], **errors(404)},
    auth=signed_in,
    tags=["moderation"],
)
def review_queue(request: HttpRequest):
    """Answers waiting for review and edits of published answers (`edit`: the published text
    beside the edit, which `body` and `legal_bases` then hold), flagged first, then the longest
    waiting. Send `revision` back as the review's `expected`."""
    require_staff(request.user)  # type: ignore[arg-type]
    return [_queue_item(a) for a in selectors.answers_pending_review()[:200]]


def _queue_item(answer: Answer) -> dict:
    item = {
        "id": answer.pk,
        "question": answer.question_id,
        "question_title": answer.question.title,
        "lawyer": _lawyer_brief(answer.lawyer),
        "body": answer.body,
        "legal_bases": _bases(answer, masked=False),
        "flags": answer.flags,
        "is_flagged": answer.is_flagged,
        "approvals": answer.approvals,
        "review_rounds_required": answer.review_rounds_required,
        "reviewed_by": [
            r.reviewer_id for r in answer.reviews.all() if r.revision == answer.revision
        ],
        "from_consult": getattr(answer, "from_consult", False),
        "created_at": answer.created_at,
        "revision": answer.revision,
        "edit": None,
    }
    edit = selectors.answer_pending_edit(answer)
    if edit is not None:
        item.update(
            body=edit.body,
            legal_bases=_stored_bases(edit.legal_bases),
            flags=edit.flags,
            is_flagged=edit.is_flagged,
            approvals=edit.approvals,
            review_rounds_required=edit.review_rounds_required,
            edit={
                "submitted_at": edit.created_at,
                "published_body": answer.body,
                "published_legal_bases": item["legal_bases"],
            },
        )
    return item


@router.get(
    "/admin/moderation/answers/{answer_id}/revisions",
    response={200: list[RevisionOut], **errors(404)},
    auth=signed_in,
    tags=["moderation"],
)
def answer_revisions(request: HttpRequest, answer_id: int):
    """An answer's history: every edit, oldest first, with the text it replaced and what
    became of it."""
    require_staff(request.user)  # type: ignore[arg-type]
    return [
        {
            "revision": r.number,
            "status": r.status,
            "body": r.body,
            "legal_bases": r.legal_bases,
            "previous_body": r.previous_body,
            "previous_legal_bases": r.previous_legal_bases,
            "flags": r.flags,
            "approvals": r.approvals,
            "review_rounds_required": r.review_rounds_required,
            "rejection_reason": r.rejection_reason,
            "created_at": r.created_at,
            "decided_at": r.decided_at,
        }
        for r in selectors.answer_history(answer_id)
    ]


@router.post(
    "/admin/moderation/answers/{answer_id}/review",
    response={200: ReviewOut, **errors(404, 409, 422)},
    auth=signed_in,
    tags=["moderation"],
)
def review_answer(request: HttpRequest, answer_id: int, payload: ReviewIn):
    """One review round of what the answer has waiting (its text, or an edit of it): approve,
    or reject with a reason. `expected`: the `revision` you read (409 `answer_changed` if the
    lawyer edited it since)."""
    require_staff(request.user)  # type: ignore[arg-type]
    answer = services.answer_review(
        staff=request.user,  # type: ignore[arg-type]
        answer_id=answer_id,
        approve=payload.approve,
        reason=payload.reason,
        expected=payload.expected,
    )
    edit = getattr(answer, "reviewed_edit", None)
    return {
        "id": answer.pk,
        "status": answer.status,
        "approvals": answer.approvals,
        "review_rounds_required": answer.review_rounds_required,
        "rejection_reason": answer.rejection_reason,
        "revision": answer.revision,
        "edit": None
        if edit is None
        else {
            "revision": edit.number,
            "status": edit.status,
            "approvals": edit.approvals,
            "review_rounds_required": edit.review_rounds_required,
            "rejection_reason": edit.rejection_reason,
        },
    }


def _group_summary(group: selectors.ReportGroup) -> str:
    target: Any = group.target
    if target is None:
        return ""
    if group.target_type == "question":
        return target.title
    if group.target_type == "answer":
        return f"{target.question.title}: {target.body[:80]}"
    if group.target_type == "lawyer":
        return person_name(target)
    return f"conversation {target.conversation_id} #{target.seq}"


@router.get(
    "/admin/moderation/reports",
    response={200: list[ReportGroupOut], **errors(404)},
    auth=signed_in,
    tags=["moderation"],
)
def open_reports(request: HttpRequest):
    """Open reports grouped by what they are about, the most reported first."""
    require_staff(request.user)  # type: ignore[arg-type]
    return [
        {
            "target_type": g.target_type,
            "target_id": g.target_id,
            "report_ids": [r.pk for r in g.reports],
            "reasons": [r.reason for r in g.reports],
            "details": [r.details for r in g.reports if r.details],
            "first_reported_at": g.first.created_at,
            "summary": _group_summary(g),
        }
        for g in selectors.reports_open()
    ]


@router.post(
    "/admin/moderation/reports/{report_id}/decide",
    response={200: DecisionOut, **errors(404, 409, 422)},
    auth=signed_in,
    tags=["moderation"],
)
def decide_report(request: HttpRequest, report_id: int, payload: DecideIn):
    """Uphold or dismiss a report; every open report on the same target is decided with it."""
    require_staff(request.user)  # type: ignore[arg-type]
    decision = services.report_decide(
        staff=request.user,  # type: ignore[arg-type]
        report_id=report_id,
        upheld=payload.outcome == "upheld",
        note=payload.note,
    )
    return {
        "id": decision.pk,
        "target_type": decision.target_type,
        "target_id": decision.target_id,
        "outcome": decision.outcome,
        "action": decision.action,
        "note": decision.note,
        "reports_closed": decision.reports.count(),
        "created_at": decision.created_at,
    }


# --- publishing a finished consult -----------------------------------------------------------
@router.post(
    "/consults/{consult_id}/publish",
    response={201: PublishOut, **errors(404, 409, 422)},
    auth=signed_in,
)
def publish_consult(request: HttpRequest, consult_id: int, payload: PublishIn):
    """The asker publishes a resolved consult as an anonymous public Q&A (explicit `confirm`
    needed); phone and ID numbers are masked; the lawyer's replies become an answer that
    waits for review."""
    question = services.consult_publish(
        asker=request.user,  # type: ignore[arg-type]
        consult_id=consult_id,
        title=payload.title,
        body=payload.body,
        confirm=payload.confirm,
        include_answer=payload.include_answer,
    )
    return Status(
        201,
        {
            "question": question.pk,
            "url": reverse("qa:question", args=[question.pk]),
            "answer_pending": question.answers.exists(),
        },
    )
