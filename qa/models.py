"""Public answers, their moderation, reader reactions and reports.

The question itself is `marketplace.Question`; what the public Q&A adds lives here, so the
marketplace tables never change for it."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from marketplace.models import Consult, Question


class Answer(models.Model):
    """A lawyer's public answer. Shows only once approved by as many distinct staff reviewers
    as `review_rounds_required` (fixed when the answer is written); one rejection ends it."""

    class Status(models.TextChoices):
        PENDING = "pending", _("Awaiting review")
        APPROVED = "approved", _("Published")
        REJECTED = "rejected", _("Rejected")
        REMOVED = "removed", _("Removed after a report")
        WITHDRAWN = "withdrawn", _("Withdrawn by you")

    question = models.ForeignKey(Question, on_delete=models.CASCADE, related_name="answers")
    lawyer = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="answers"
    )
    body = models.TextField(max_length=10000)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    review_rounds_required = models.PositiveSmallIntegerField(default=1)
    approvals = models.PositiveSmallIntegerField(default=0)
    rejection_reason = models.CharField(max_length=500, blank=True)
    # safety filter findings (qa.safety): [{"code": "outcome_promise", "match": "包赢"}, ...]
    flags = models.JSONField(default=list, blank=True)
    is_flagged = models.BooleanField(default=False)
    like_count = models.PositiveIntegerField(default=0)
    helpful_count = models.PositiveIntegerField(default=0)
    # the number of the answer's latest edit (0: never edited; see AnswerRevision). Staff send
    # the number they read as `expected`, so a review never applies to text they did not see
    revision = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    published_at = models.DateTimeField(null=True, blank=True)
    # when an approved edit last replaced the published text (the page's "edited" marker)
    edited_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            # one live answer per lawyer per question; after a rejection or a withdrawal the
            # lawyer may write it again
            models.UniqueConstraint(
                fields=["question", "lawyer"],
                condition=~models.Q(status__in=["rejected", "withdrawn"]),
                name="qa_answer_one_live_per_lawyer",
            ),
        ]
        indexes = [
            models.Index(fields=["question", "status", "published_at"]),
            models.Index(fields=["status", "-is_flagged", "created_at"]),
            models.Index(fields=["lawyer", "status", "-created_at"]),
        ]

    def __str__(self) -> str:
        return f"Answer {self.pk} to question {self.question_id} ({self.status})"

    @property
    def is_visible(self) -> bool:
        return self.status == self.Status.APPROVED


# a lawyer may answer a question again once their answer to it was rejected or withdrawn
ANSWER_AGAIN_AFTER = (Answer.Status.REJECTED, Answer.Status.WITHDRAWN)
# what its lawyer may edit: an answer waiting for review, or published (a rejected or withdrawn
# one is answered again instead, a removed one stays down)
ANSWER_EDITABLE = (Answer.Status.PENDING, Answer.Status.APPROVED)


class AnswerRevision(models.Model):
    """One edit of an answer, with the text it replaced: the answer's history.

    An edit of a published answer waits for review (`pending`) while the published text stays
    on the page; approved, it replaces that text. An edit of an answer still waiting for review
    replaces the text under review at once (`applied`), and its review starts again. An answer
    has at most one pending edit: a newer edit replaces it."""

    class Status(models.TextChoices):
        PENDING = "pending", _("Awaiting review")
        APPROVED = "approved", _("Published")
        REJECTED = "rejected", _("Rejected")
        APPLIED = "applied", _("Applied before publication")
        REPLACED = "replaced", _("Replaced by a later edit")
        CANCELED = "canceled", _("Dropped with the answer")

    answer = models.ForeignKey(Answer, on_delete=models.CASCADE, related_name="revisions")
    number = models.PositiveIntegerField()  # 1, 2, 3... per answer (Answer.revision)
    body = models.TextField(max_length=10000)
    # [{"statute", "article", "excerpt"}], as LegalBasis rows hold them
    legal_bases = models.JSONField(default=list, blank=True)
    previous_body = models.TextField(max_length=10000)
    previous_legal_bases = models.JSONField(default=list, blank=True)
    flags = models.JSONField(default=list, blank=True)
    is_flagged = models.BooleanField(default=False)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    review_rounds_required = models.PositiveSmallIntegerField(default=1)
    approvals = models.PositiveSmallIntegerField(default=0)
    rejection_reason = models.CharField(max_length=500, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    decided_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["answer", "number"]
        constraints = [
            models.UniqueConstraint(fields=["answer", "number"], name="qa_revision_number"),
            models.UniqueConstraint(
                fields=["answer"],
                condition=models.Q(status="pending"),
                name="qa_revision_one_pending",
            ),
        ]

    def __str__(self) -> str:
        return f"Edit {self.number} of answer {self.answer_id} ({self.status})"

    @property
    def citations(self) -> list[str]:
        return [f"《{b['statute']}》{b['article']}" for b in self.legal_bases]


class LegalBasis(models.Model):
    """A statute and article an answer relies on, e.g. 《刑法》第二百六十四条."""

    answer = models.ForeignKey(Answer, on_delete=models.CASCADE, related_name="legal_bases")
    position = models.PositiveSmallIntegerField()
    statute = models.CharField(max_length=80)  # without 《》
    article = models.CharField(max_length=40)  # 第二百六十四条, 第一百三十三条之一, ...
    excerpt = models.TextField(max_length=2000, blank=True)

    class Meta:
        ordering = ["answer", "position"]
        constraints = [
            models.UniqueConstraint(fields=["answer", "position"], name="qa_legal_basis_position")
        ]
        verbose_name_plural = "legal bases"

    def __str__(self) -> str:
        return self.citation

    @property
    def citation(self) -> str:
        return f"《{self.statute}》{self.article}"


class AnswerReview(models.Model):
    """One staff decision on one round of the review of one text of an answer: its first text
    (`revision` 0) or an edit (`revision` n, AnswerRevision n)."""

    answer = models.ForeignKey(Answer, on_delete=models.CASCADE, related_name="reviews")
    reviewer = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="answer_reviews"
    )
    revision = models.PositiveIntegerField(default=0)
    # an edit of the published answer (not the answer's own way to publication)
    of_edit = models.BooleanField(default=False)
    round = models.PositiveSmallIntegerField()
    approved = models.BooleanField()
    reason = models.CharField(max_length=500, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["answer", "round"]
        constraints = [
            models.UniqueConstraint(
                fields=["answer", "revision", "round"], name="qa_review_one_per_round"
            ),
            # each round of a text's review needs a different reviewer
            models.UniqueConstraint(
                fields=["answer", "revision", "reviewer"], name="qa_review_one_per_reviewer"
            ),
        ]

    def __str__(self) -> str:
        verdict = "approved" if self.approved else "rejected"
        return f"Round {self.round} of answer {self.answer_id}: {verdict}"


class AnswerLike(models.Model):
    answer = models.ForeignKey(Answer, on_delete=models.CASCADE, related_name="likes")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="answer_likes"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["answer", "user"], name="qa_like_once_per_user")
        ]

    def __str__(self) -> str:
        return f"{self.user_id} likes answer {self.answer_id}"


class HelpfulMark(models.Model):
    """A reader (the asker above all) says this answer solved their problem; a question has
    "helped N people" where N is the distinct readers who marked any of its live answers."""

    answer = models.ForeignKey(Answer, on_delete=models.CASCADE, related_name="helpful_marks")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="helpful_marks"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["answer", "user"], name="qa_helpful_once_per_user")
        ]

    def __str__(self) -> str:
        return f"{self.user_id} found answer {self.answer_id} helpful"


class TargetType(models.TextChoices):
    QUESTION = "question", _("Question")
    ANSWER = "answer", _("Answer")
    MESSAGE = "message", _("Message")
    LAWYER = "lawyer", _("Lawyer")


class ModerationDecision(models.Model):
    """What staff decided about a reported target; closes every open report on it."""

    class Outcome(models.TextChoices):
        UPHELD = "upheld", _("Upheld")
        DISMISSED = "dismissed", _("Dismissed")

    class Action(models.TextChoices):
        NONE = "none", _("No change")
        QUESTION_HIDDEN = "question_hidden", _("Question hidden")
        ANSWER_REMOVED = "answer_removed", _("Answer removed")

    staff = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="moderation_decisions"
    )
    target_type = models.CharField(max_length=10, choices=TargetType.choices)
    target_id = models.PositiveBigIntegerField()
    outcome = models.CharField(max_length=10, choices=Outcome.choices)
    action = models.CharField(max_length=20, choices=Action.choices, default=Action.NONE)
    note = models.CharField(max_length=1000, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        indexes = [
            models.Index(fields=["target_type", "target_id"]),
            models.Index(fields=["-created_at"]),
        ]

    def __str__(self) -> str:
        return f"{self.outcome} {self.target_type} {self.target_id}"


class Report(models.Model):
    """投诉/举报: a signed-in user's complaint about a question, answer, message or lawyer."""

    class Reason(models.TextChoices):
        SPAM = "spam", _("Spam or advertising")
        ABUSE = "abuse", _("Abusive or offensive")
        PRIVACY = "privacy", _("Exposes personal information")
        MISLEADING = "misleading", _("Wrong, misleading or promises an outcome")
        FRAUD = "fraud", _("Fraud or a scam")
        ILLEGAL = "illegal", _("Illegal content")
        INFRINGEMENT = "infringement", _("Infringes my rights")
        MISCONDUCT = "misconduct", _("Unprofessional conduct")
        OTHER = "other", _("Something else")

    class Status(models.TextChoices):
        # a public question is "Open" too, and says it with another word in Chinese
        OPEN = "open", pgettext_lazy("report status", "Open")
        UPHELD = "upheld", _("Upheld")
        DISMISSED = "dismissed", _("Dismissed")

    reporter = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="reports_filed"
    )
    target_type = models.CharField(max_length=10, choices=TargetType.choices)
    target_id = models.PositiveBigIntegerField()
    reason = models.CharField(max_length=16, choices=Reason.choices)
    details = models.TextField(max_length=1000, blank=True)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.OPEN)
    decision = models.ForeignKey(
        ModerationDecision,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="reports",
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            # a reporter has at most one open report per target
            models.UniqueConstraint(
                fields=["reporter", "target_type", "target_id"],
                condition=models.Q(status="open"),
                name="qa_report_one_open_per_reporter",
            ),
        ]
        indexes = [
            models.Index(fields=["status", "target_type", "target_id"]),
            models.Index(fields=["status", "created_at"]),
        ]

    def __str__(self) -> str:
        return f"Report {self.pk} on {self.target_type} {self.target_id} ({self.status})"


class ViewFlushBatch(models.Model):
    """A batch of Redis view counts already added to questions: the flush inserts this row in
    the transaction that adds the counts, so a batch replayed after a crash is never added twice."""

    batch_id = models.CharField(max_length=40, unique=True)
    questions = models.PositiveIntegerField(default=0)
    views = models.PositiveBigIntegerField(default=0)
    flushed_at = models.DateTimeField(auto_now_add=True, db_index=True)

    def __str__(self) -> str:
        return f"view batch {self.batch_id}"


class ConsultPublication(models.Model):
    """An asker chose to publish a closed consult as an anonymised public Q&A."""

    consult = models.OneToOneField(Consult, on_delete=models.PROTECT, related_name="publication")
    question = models.OneToOneField(
        Question, on_delete=models.CASCADE, related_name="published_from"
    )
    asker = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="consult_publications"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"consult {self.consult_id} published as question {self.question_id}"
