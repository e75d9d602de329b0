"""Writes of the public Q&A: answers and their moderation, likes, helpful marks, reports and
their decisions, publishing a finished consult. Each service is one transaction."""

from __future__ import annotations

from django.conf import settings
from django.db import IntegrityError, connection, transaction
from django.db.models import F, Model
from django.db.models.functions import Greatest
from django.utils import timezone

from accounts.models import User
from config.errors import DomainError, NotFound, RateLimited
from config.rate_limits import rate_limit_check
from marketplace.models import Consult, LawyerProfile, Question
from messaging.models import Message, Participant
from messaging.notices import (
    ANSWER_EDIT_PUBLISHED,
    ANSWER_EDIT_REJECTED,
    ANSWER_PUBLISHED,
    ANSWER_REJECTED,
    ANSWER_REMOVED,
)
from messaging.tasks import notice_send_task
from qa import errors, search
from qa.legal_bases import legal_bases_clean
from qa.masking import mask_personal_data
from qa.models import (
    ANSWER_AGAIN_AFTER,
    ANSWER_EDITABLE,
    Answer,
    AnswerLike,
    AnswerReview,
    AnswerRevision,
    ConsultPublication,
    HelpfulMark,
    LegalBasis,
    ModerationDecision,
    Report,
    TargetType,
)
from qa.page_cache import question_page_forget
from qa.safety import review_flags
from qa.selectors import (
    ANSWERABLE_STATUSES,
    answer_bases_data,
    public_questions,
    visible_answers,
)
from qa.user_text import user_text

ANSWER_MIN_CHARS = 10
ANSWER_MAX_CHARS = 10000
REASON_MAX_CHARS = 500


def _insert_once(model: type[Model], **fields: object) -> bool:
    """INSERT … ON CONFLICT DO NOTHING: True when this call made the row. Under concurrency the
    unique constraint decides; a concurrent insert of the same row waits for the first one."""
    table = connection.ops.quote_name(model._meta.db_table)
    columns = ", ".join(
        connection.ops.quote_name(getattr(model._meta.get_field(f), "column", f)) for f in fields
    )
    placeholders = ", ".join(["%s"] * len(fields))
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {table} ({columns}, created_at) "  # noqa: S608 - names from the model
            f"VALUES ({placeholders}, %s) ON CONFLICT DO NOTHING RETURNING id",
            [*list(fields.values()), timezone.now()],  # type: ignore[list-item]
        )
        return cursor.fetchone() is not None


def _is_verified_lawyer(user: User) -> bool:
    if not (user.is_lawyer and user.is_active):
        return False
    profile = LawyerProfile.objects.filter(user=user).only("verification").first()
    return profile is not None and profile.is_verified


# --- answers ------------------------------------------------------------------------------
def _answer_text(body: str) -> str:
    text = user_text(body)
    if not ANSWER_MIN_CHARS <= len(text) <= ANSWER_MAX_CHARS:
        raise errors.InvalidAnswer(fields={"body": errors.InvalidAnswer.message})
    return text


def answer_create(
    *, lawyer: User, question_id: int, body: str, legal_bases: list[dict] | None = None
) -> Answer:
    """A verified lawyer answers a public question; the answer waits for review."""
    if not _is_verified_lawyer(lawyer):
        raise errors.LawyerNotVerified()
    text = _answer_text(body)
    bases = legal_bases_clean(legal_bases or [])
    flags = review_flags(text)
    with transaction.atomic():
        question = public_questions().select_for_update().filter(pk=question_id).first()
        if question is None:
            raise NotFound()
        if question.status not in ANSWERABLE_STATUSES:
            raise errors.QuestionNotAnswerable()
        if (
            Answer.objects.filter(question=question, lawyer=lawyer)
            .exclude(status__in=ANSWER_AGAIN_AFTER)
            .exists()
        ):
            raise errors.AlreadyAnswered()
        answer = Answer.objects.create(
            question=question,
            lawyer=lawyer,
            body=text,
            review_rounds_required=max(1, settings.QA_ANSWER_REVIEW_ROUNDS),
            flags=[flag.as_dict() for flag in flags],
            is_flagged=bool(flags),
        )
        _legal_bases_create(answer, [basis.as_dict() for basis in bases])
    return answer


def answer_review(
    *, staff: User, answer_id: int, approve: bool, reason: str = "", expected: int | None = None
) -> Answer:
    """One review round by one staff member, of what the answer has waiting: its own text
    (approvals from `review_rounds_required` distinct reviewers publish it, a rejection with a
    reason ends it) or, for a published answer, its pending edit (`_edit_review`; the answer
    then carries it as `reviewed_edit`).

    `expected`: the answer's `revision` the reviewer read; when the lawyer edited it since,
    `answer_changed` and nothing is recorded. Left out, the round applies to whatever waits."""
    reason = user_text(reason)[:REASON_MAX_CHARS]
    if not approve and not reason:
        raise errors.ReasonRequired(fields={"reason": errors.ReasonRequired.message})
    with transaction.atomic():
        answer = Answer.objects.select_for_update().filter(pk=answer_id).first()
        if answer is None:
            raise NotFound()
        if expected is not None and answer.revision != expected:
            raise errors.AnswerChanged()
        if answer.status == Answer.Status.APPROVED:
            edit = AnswerRevision.objects.filter(
                answer=answer, status=AnswerRevision.Status.PENDING
            ).first()
            if edit is None:
                raise errors.AnswerNotPending()
            _edit_review(staff=staff, answer=answer, edit=edit, approve=approve, reason=reason)
            return answer
        if answer.status != Answer.Status.PENDING:
            raise errors.AnswerNotPending()
        if AnswerReview.objects.filter(
            answer=answer, revision=answer.revision, reviewer=staff
        ).exists():
            raise errors.AlreadyReviewed()
        AnswerReview.objects.create(
            answer=answer,
            reviewer=staff,
            revision=answer.revision,
            round=answer.approvals + 1,
            approved=approve,
            reason=reason,
        )
        if not approve:
            answer.status = Answer.Status.REJECTED
            answer.rejection_reason = reason
        else:
            answer.approvals += 1
            if answer.approvals >= answer.review_rounds_required:
                answer.status = Answer.Status.APPROVED
                answer.published_at = timezone.now()
                Question.objects.filter(pk=answer.question_id, status=Question.Status.OPEN).update(
                    status=Question.Status.ANSWERED
                )
                question_page_forget(answer.question_id)
        answer.save(
            update_fields=["status", "approvals", "rejection_reason", "published_at", "updated_at"]
        )
        if answer.status == Answer.Status.REJECTED:
            _tell_lawyer_of(answer, ANSWER_REJECTED)
        elif answer.status == Answer.Status.APPROVED:
            _tell_lawyer_of(answer, ANSWER_PUBLISHED)
    answer.reviewed_edit = None  # type: ignore[attr-defined]
    return answer


def _edit_review(
    *, staff: User, answer: Answer, edit: AnswerRevision, approve: bool, reason: str
) -> None:
    """One round of the review of a published answer's pending edit. Approved by enough
    reviewers, the edit's text replaces the published one and the page shows it as edited;
    rejected, the published text stays and the lawyer is told why. Call with the answer
    locked."""
    if AnswerReview.objects.filter(answer=answer, revision=edit.number, reviewer=staff).exists():
        raise errors.AlreadyReviewed()
    AnswerReview.objects.create(
        answer=answer,
        reviewer=staff,
        revision=edit.number,
        of_edit=True,
        round=edit.approvals + 1,
        approved=approve,
        reason=reason,
    )
    now = timezone.now()
    if not approve:
        edit.status = AnswerRevision.Status.REJECTED
        edit.rejection_reason = reason
        edit.decided_at = now
        _tell_lawyer_of_edit(answer, edit, ANSWER_EDIT_REJECTED)
    else:
        edit.approvals += 1
        if edit.approvals >= edit.review_rounds_required:
            edit.status = AnswerRevision.Status.APPROVED
            edit.decided_at = now
            answer.body = edit.body
            answer.flags, answer.is_flagged = edit.flags, edit.is_flagged
            answer.edited_at = now
            answer.save(update_fields=["body", "flags", "is_flagged", "edited_at", "updated_at"])
            _legal_bases_replace(answer, edit.legal_bases)
            question_page_forget(answer.question_id)
            _tell_lawyer_of_edit(answer, edit, ANSWER_EDIT_PUBLISHED)
    edit.save(update_fields=["status", "approvals", "rejection_reason", "decided_at"])
    answer.reviewed_edit = edit  # type: ignore[attr-defined]


def _tell_lawyer_of_edit(answer: Answer, edit: AnswerRevision, kind: str) -> None:
    notice_send_task.delay_on_commit(answer.lawyer_id, kind, {"revision": edit.pk})


def _tell_lawyer_of(answer: Answer, kind: str) -> None:
    """A notice in the lawyer's inbox, by a task after commit (the answer's id only)."""
    notice_send_task.delay_on_commit(answer.lawyer_id, kind, {"answer": answer.pk})


# --- editing an answer ----------------------------------------------------------------------
def _legal_bases_replace(answer: Answer, bases: list[dict[str, str]]) -> None:
    LegalBasis.objects.filter(answer=answer).delete()
    _legal_bases_create(answer, bases)


def _legal_bases_create(answer: Answer, bases: list[dict[str, str]]) -> None:
    """The answer's cited bases, in the order given (as cleaned: legal_bases_clean)."""
    LegalBasis.objects.bulk_create(
        LegalBasis(
            answer=answer,
            position=position,
            statute=basis["statute"],
            article=basis["article"],
            excerpt=basis.get("excerpt", ""),
        )
        for position, basis in enumerate(bases)
    )


def _edit_refusal(answer: Answer) -> None:
    """Raise why the answer may not be edited now, if it may not."""
    if answer.status == Answer.Status.REMOVED:
        raise errors.AnswerRemoved()
    if answer.status not in ANSWER_EDITABLE:
        raise errors.AnswerNotEditable()
    if not public_questions().filter(pk=answer.question_id).exists():
        raise errors.QuestionNotAnswerable()


def answer_edit_check(*, lawyer: User, answer_id: int) -> Answer:
    """The lawyer's own answer if they may edit it now (what the edit page shows); raises the
    refusal `answer_edit` would raise otherwise (NotFound for anyone else's answer). Reads
    only."""
    if not _is_verified_lawyer(lawyer):
        raise errors.LawyerNotVerified()
    answer = Answer.objects.filter(pk=answer_id, lawyer=lawyer).first()
    if answer is None:
        raise NotFound()
    _edit_refusal(answer)
    return answer


def answer_edit(
    *,
    lawyer: User,
    answer_id: int,
    body: str | None = None,
    legal_bases: list[dict] | None = None,
) -> Answer:
    """The lawyer edits their own answer, checked as when it was written (`body`, and
    `legal_bases` replacing the cited ones; either left out stays as the lawyer last wrote it).

    Waiting for review, the answer takes the new text at once and its review starts again.
    Published, it keeps its text, votes and place while the edit waits for review (one pending
    edit per answer: a newer edit replaces it; an edit back to the published text withdraws
    it). Every edit is kept with the text it replaced (AnswerRevision). Rejected and withdrawn
    answers are answered again instead (`answer_not_editable`), removed ones stay down
    (`answer_removed`)."""
    if not _is_verified_lawyer(lawyer):
        raise errors.LawyerNotVerified()
    text = _answer_text(body) if body is not None else None
    bases = (
        [basis.as_dict() for basis in legal_bases_clean(legal_bases)]
        if legal_bases is not None
        else None
    )
    with transaction.atomic():
        answer = Answer.objects.select_for_update().filter(pk=answer_id, lawyer=lawyer).first()
        if answer is None:
            raise NotFound()
        _edit_refusal(answer)
        shown_body, shown_bases = answer.body, answer_bases_data(answer)
        pending = AnswerRevision.objects.filter(
            answer=answer, status=AnswerRevision.Status.PENDING
        ).first()
        # what the lawyer last wrote: the pending edit, else the answer's own text
        last_body, last_bases = (
            (pending.body, pending.legal_bases) if pending else (shown_body, shown_bases)
        )
        new_body = text if text is not None else last_body
        new_bases = bases if bases is not None else last_bases
        if (new_body, new_bases) == (last_body, last_bases):
            return answer  # nothing changed: nothing to review
        now = timezone.now()
        if pending is not None:
            pending.status = AnswerRevision.Status.REPLACED
            pending.decided_at = now
            pending.save(update_fields=["status", "decided_at"])
        if (new_body, new_bases) == (shown_body, shown_bases):
            return answer  # back to the published text: nothing waits any more
        flags = [flag.as_dict() for flag in review_flags(new_body)]
        answer.revision += 1
        edit = AnswerRevision(
            answer=answer,
            number=answer.revision,
            body=new_body,
            legal_bases=new_bases,
            previous_body=shown_body,
            previous_legal_bases=shown_bases,
            flags=flags,
            is_flagged=bool(flags),
            review_rounds_required=max(1, settings.QA_ANSWER_REVIEW_ROUNDS),
        )
        if answer.status == Answer.Status.PENDING:
            # nobody reads it yet: the text under review is replaced, and reviewed afresh
            edit.status, edit.decided_at = AnswerRevision.Status.APPLIED, now
            answer.body, answer.flags, answer.is_flagged = new_body, flags, bool(flags)
            answer.approvals = 0
            _legal_bases_replace(answer, new_bases)
        edit.save()
        answer.save(
            update_fields=["revision", "body", "flags", "is_flagged", "approvals", "updated_at"]
        )
    return answer


def _edits_drop(answer: Answer) -> None:
    """The answer leaves the page: an edit waiting for review goes with it."""
    AnswerRevision.objects.filter(answer=answer, status=AnswerRevision.Status.PENDING).update(
        status=AnswerRevision.Status.CANCELED, decided_at=timezone.now()
    )


def answer_withdraw(*, lawyer: User, answer_id: int) -> Answer:
    """The lawyer takes back their own answer, waiting for review or published: it leaves the
    question's page, and the lawyer may answer the question again (reviewed again)."""
    with transaction.atomic():
        question_id = (
            Answer.objects.filter(pk=answer_id, lawyer=lawyer)
            .values_list("question_id", flat=True)
            .first()
        )
        if question_id is None:
            raise NotFound()
        # question before answer, the order the helpful marks and removals lock in
        Question.objects.select_for_update().filter(pk=question_id).values("pk").first()
        answer = Answer.objects.select_for_update().get(pk=answer_id)
        if answer.status not in (Answer.Status.PENDING, Answer.Status.APPROVED):
            raise errors.AnswerNotWithdrawable()
        was_published = answer.status == Answer.Status.APPROVED
        answer.status = Answer.Status.WITHDRAWN
        answer.save(update_fields=["status", "updated_at"])
        _edits_drop(answer)
        if was_published:
            question_page_forget(question_id)
            _question_refresh_helped(question_id)
    return answer


def _visible_answer(answer_id: int) -> Answer:
    answer = visible_answers().filter(pk=answer_id).only("id", "lawyer_id", "question_id").first()
    if answer is None:
        raise NotFound()
    return answer


def answer_like(*, user: User, answer_id: int) -> int:
    """Like once; liking again changes nothing. Returns the like count."""
    with transaction.atomic():
        answer = _visible_answer(answer_id)
        if answer.lawyer_id == user.pk:
            raise errors.OwnAnswer()
        if _insert_once(AnswerLike, answer=answer.pk, user=user.pk):
            Answer.objects.filter(pk=answer.pk).update(like_count=F("like_count") + 1)
            question_page_forget(answer.question_id)
        return Answer.objects.values_list("like_count", flat=True).get(pk=answer.pk)


def answer_unlike(*, user: User, answer_id: int) -> int:
    with transaction.atomic():
        answer = _visible_answer(answer_id)
        deleted, _ = AnswerLike.objects.filter(answer=answer, user=user).delete()
        if deleted:
            Answer.objects.filter(pk=answer.pk).update(like_count=Greatest(F("like_count") - 1, 0))
            question_page_forget(answer.question_id)
        return Answer.objects.values_list("like_count", flat=True).get(pk=answer.pk)


def _question_refresh_helped(question_id: int) -> int:
    """helped_count = distinct readers who marked any live answer of the question. Call with
    the question row locked, so concurrent marks cannot both count from a stale set."""
    helped = (
        HelpfulMark.objects.filter(
            answer__question_id=question_id, answer__status=Answer.Status.APPROVED
        )
        .values("user_id")
        .distinct()
        .count()
    )
    Question.objects.filter(pk=question_id).update(helped_count=helped)
    return helped


def _set_helpful(*, user: User, answer_id: int, helpful: bool) -> int:
    with transaction.atomic():
        answer = _visible_answer(answer_id)
        if answer.lawyer_id == user.pk:
            raise errors.OwnAnswer()
        Question.objects.select_for_update().filter(pk=answer.question_id).values("pk").get()
        if helpful:
            changed = _insert_once(HelpfulMark, answer=answer.pk, user=user.pk)
        else:
            changed = HelpfulMark.objects.filter(answer=answer, user=user).delete()[0] > 0
        if changed:
            delta = F("helpful_count") + 1 if helpful else Greatest(F("helpful_count") - 1, 0)
            Answer.objects.filter(pk=answer.pk).update(helpful_count=delta)
            question_page_forget(answer.question_id)
            return _question_refresh_helped(answer.question_id)
        return Question.objects.values_list("helped_count", flat=True).get(pk=answer.question_id)


def answer_mark_helpful(*, user: User, answer_id: int) -> int:
    """The reader (the asker above all) found this answer helpful. Returns the question's
    "helped N people"."""
    return _set_helpful(user=user, answer_id=answer_id, helpful=True)


def answer_unmark_helpful(*, user: User, answer_id: int) -> int:
    return _set_helpful(user=user, answer_id=answer_id, helpful=False)


# --- reports ------------------------------------------------------------------------------
def report_target_check(*, reporter: User, target_type: str, target_id: int) -> None:
    """Raise NotFound for anything the reporter cannot see, InvalidReport for reporting
    oneself."""
    refusal = _report_target_refusal(
        reporter=reporter, target_type=target_type, target_id=target_id
    )
    if refusal is not None:
        raise refusal


def _report_target_refusal(
    *, reporter: User, target_type: str, target_id: int
) -> DomainError | None:
    """Raise NotFound for anything the reporter cannot see; return, not raise, the refusal of
    a target the reporter sees but may not report (their own, an unknown type)."""
    if target_type == TargetType.QUESTION:
        question = public_questions().filter(pk=target_id).values("asker_id").first()
        if question is None:
            raise NotFound()
        if question["asker_id"] == reporter.pk:
            return errors.InvalidReport(errors.REPORT_OWN, fields={"target": "own question"})
    elif target_type == TargetType.ANSWER:
        answer = visible_answers().filter(pk=target_id).values("lawyer_id").first()
        if answer is None:
            raise NotFound()
        if answer["lawyer_id"] == reporter.pk:
            return errors.OwnAnswer()
    elif target_type == TargetType.MESSAGE:
        message = Message.objects.filter(pk=target_id).values("conversation_id", "sender_id")
        row = message.first()
        if (
            row is None
            or not Participant.objects.filter(
                conversation_id=row["conversation_id"], user=reporter
            ).exists()
        ):
            raise NotFound()
        if row["sender_id"] in (None, reporter.pk):
            return errors.InvalidReport(
                errors.REPORT_OWN, fields={"target": "not another person's message"}
            )
    elif target_type == TargetType.LAWYER:
        if not LawyerProfile.objects.filter(
            user_id=target_id, user__role=User.Role.LAWYER
        ).exists():
            raise NotFound()
        if target_id == reporter.pk:
            return errors.InvalidReport(errors.REPORT_OWN, fields={"target": "yourself"})
    else:
        return errors.InvalidReport(fields={"target_type": "question, answer, message or lawyer"})
    return None


def _report_throttle(reporter: User) -> None:
    try:
        for bucket, limit, window in (
            ("qa-report-hour", settings.QA_REPORTS_PER_HOUR, 3600),
            ("qa-report-day", settings.QA_REPORTS_PER_DAY, 86400),
        ):
            rate_limit_check(
                bucket=bucket, identity=reporter.pk, limit=limit, window_seconds=window
            )
    except RateLimited:
        raise errors.ReportRateLimited() from None


def report_create(
    *, reporter: User, target_type: str, target_id: int, reason: str, details: str = ""
) -> Report:
    """What the reporter may not see is NotFound before any other refusal, so a caller that
    shows the target beside a refusal (the report form quotes a message) needs no check of
    its own."""
    refusal = _report_target_refusal(
        reporter=reporter, target_type=target_type, target_id=target_id
    )
    if reason not in Report.Reason.values:
        raise errors.InvalidReport(fields={"reason": ", ".join(Report.Reason.values)})
    details = user_text(details)
    if len(details) > 1000:
        raise errors.InvalidReport(fields={"details": "at most 1000 characters"})
    if reason == Report.Reason.OTHER and not details:
        raise errors.InvalidReport(
            errors.REPORT_OTHER_NEEDS_DETAILS,
            fields={"details": errors.REPORT_OTHER_NEEDS_DETAILS},
        )
    if refusal is not None:
        raise refusal
    open_reports = Report.objects.filter(
        reporter=reporter, target_type=target_type, target_id=target_id, status=Report.Status.OPEN
    )
    if open_reports.exists():
        raise errors.AlreadyReported()
    if not reporter.is_staff:
        _report_throttle(reporter)
    try:
        with transaction.atomic():
            return Report.objects.create(
                reporter=reporter,
                target_type=target_type,
                target_id=target_id,
                reason=reason,
                details=details,
            )
    except IntegrityError:  # the same report sent twice at once
        raise errors.AlreadyReported() from None


def _answer_remove(answer_id: int) -> None:
    question_id = Answer.objects.filter(pk=answer_id).values_list("question_id", flat=True).first()
    if question_id is None:
        return
    # question before answer, the order the helpful marks lock in
    Question.objects.select_for_update().filter(pk=question_id).values("pk").first()
    answer = Answer.objects.select_for_update().get(pk=answer_id)
    if answer.status == Answer.Status.REMOVED:
        return
    answer.status = Answer.Status.REMOVED
    answer.save(update_fields=["status", "updated_at"])
    _edits_drop(answer)
    _tell_lawyer_of(answer, ANSWER_REMOVED)
    question_page_forget(answer.question_id)
    _question_refresh_helped(answer.question_id)


def report_decide(
    *, staff: User, report_id: int, upheld: bool, note: str = ""
) -> ModerationDecision:
    """Decide a report, and with it every open report on the same target. Upholding a report
    on a question hides the question; on an answer it removes the answer. Reports on messages
    and lawyers are recorded; what follows (a warning, verification) is staff's next step."""
    note = user_text(note)[:1000]
    with transaction.atomic():
        report = Report.objects.select_for_update().filter(pk=report_id).first()
        if report is None:
            raise NotFound()
        if report.status != Report.Status.OPEN:
            raise errors.ReportAlreadyDecided()
        siblings = list(
            Report.objects.select_for_update()
            .filter(
                target_type=report.target_type,
                target_id=report.target_id,
                status=Report.Status.OPEN,
            )
            .values_list("pk", flat=True)
        )
        action = ModerationDecision.Action.NONE
        if upheld and report.target_type == TargetType.QUESTION:
            Question.objects.filter(pk=report.target_id).update(status=Question.Status.HIDDEN)
            question_page_forget(report.target_id)
            action = ModerationDecision.Action.QUESTION_HIDDEN
        elif upheld and report.target_type == TargetType.ANSWER:
            _answer_remove(report.target_id)
            action = ModerationDecision.Action.ANSWER_REMOVED
        outcome = (
            ModerationDecision.Outcome.UPHELD if upheld else ModerationDecision.Outcome.DISMISSED
        )
        decision = ModerationDecision.objects.create(
            staff=staff,
            target_type=report.target_type,
            target_id=report.target_id,
            outcome=outcome,
            action=action,
            note=note,
        )
        Report.objects.filter(pk__in=siblings).update(
            status=Report.Status.UPHELD if upheld else Report.Status.DISMISSED, decision=decision
        )
    return decision


# --- publishing a finished consult ----------------------------------------------------------
def consult_lawyer_reply(consult: Consult) -> str:
    """The lawyer's messages of a consult, masked, as the text of a public answer."""
    if consult.conversation_id is None or consult.lawyer_id is None:
        return ""
    bodies = (
        Message.objects.filter(
            conversation_id=consult.conversation_id,
            sender_id=consult.lawyer_id,
            kind=Message.Kind.TEXT,
        )
        .order_by("seq")
        .values_list("body", flat=True)
    )
    return mask_personal_data("\n\n".join(b.strip() for b in bodies if b.strip()))[
        :ANSWER_MAX_CHARS
    ]


def consult_publish(
    *,
    asker: User,
    consult_id: int,
    title: str,
    body: str,
    confirm: bool,
    include_answer: bool = True,
) -> Question:
    """Only by the asker's explicit choice: a resolved consult becomes a new anonymous public
    question (personal numbers masked) and, if wanted, the lawyer's replies become its answer,
    which waits for review like any other. The consult and its chat stay private."""
    with transaction.atomic():
        consult = (
            Consult.objects.select_for_update()
            .select_related("question")
            .filter(pk=consult_id, asker=asker)
            .first()
        )
        if consult is None:
            raise NotFound()
        if not confirm:
            raise errors.PublishNotConfirmed()
        if consult.state != Consult.State.RESOLVED:
            raise errors.ConsultNotClosed()
        if ConsultPublication.objects.filter(consult=consult).exists():
            raise errors.AlreadyPublished()
        title = mask_personal_data(user_text(title))
        body = mask_personal_data(user_text(body))
        if not title or len(title) > 120 or not body or len(body) > 20000:
            raise errors.InvalidQuestionText()
        question = Question.objects.create(
            asker=asker,
            title=title,
            body=body,
            category_id=consult.question.category_id,
            city_id=consult.question.city_id,
            is_public=True,
            is_anonymous=True,
        )
        ConsultPublication.objects.create(consult=consult, question=question, asker=asker)
        reply = consult_lawyer_reply(consult) if include_answer else ""
        if consult.lawyer_id is not None and len(reply) >= ANSWER_MIN_CHARS:
            flags = review_flags(reply)
            Answer.objects.create(
                question=question,
                lawyer_id=consult.lawyer_id,
                body=reply,
                review_rounds_required=max(1, settings.QA_ANSWER_REVIEW_ROUNDS),
                flags=[flag.as_dict() for flag in flags],
                is_flagged=bool(flags),
            )
        search.index_question(question)
    return question
