from __future__ import annotations

from typing import Any

from django import forms
from django.conf import settings
from django.utils.translation import gettext_lazy as _

from qa.errors import REPORT_OTHER_NEEDS_DETAILS, PublishNotConfirmed
from qa.models import Report


class AnswerForm(forms.Form):
    body = forms.CharField(
        label=_("Your answer"),
        min_length=10,
        max_length=10000,
        widget=forms.Textarea(attrs={"rows": 8}),
        help_text=_(
            "Explain the law and the next steps. Do not promise an outcome or give contact "
            "details: such answers are held for review."
        ),
    )

    def __init__(self, *args, bases: list[dict[str, str]] | None = None, **kwargs):
        """`bases`: the legal bases an edit starts from ({"statute", "article", "excerpt"}).
        The page has no field for an excerpt (the API has): a row still citing what it cited
        keeps its excerpt."""
        super().__init__(*args, **kwargs)
        data: Any = self.data
        bases = bases or []
        self.excerpts = {(b["statute"], b["article"]): b.get("excerpt", "") for b in bases}
        if self.is_bound:
            statutes, articles = data.getlist("statute"), data.getlist("article")
        else:
            statutes = [b["statute"] for b in bases]
            articles = [b["article"] for b in bases]
        self.basis_rows: list[dict[str, Any]] = []
        for i in range(settings.QA_ANSWER_MAX_LEGAL_BASES):
            statute = statutes[i] if i < len(statutes) else ""
            article = articles[i] if i < len(articles) else ""
            # rows past the second start folded (page JS) until the lawyer asks for more
            extra = i >= 2 and not (statute or article)
            self.basis_rows.append(
                {"index": i, "statute": statute, "article": article, "extra": extra}
            )

    def legal_bases(self) -> list[dict[str, str]]:
        return [
            {
                "statute": r["statute"],
                "article": r["article"],
                "excerpt": self.excerpts.get((r["statute"], r["article"]), ""),
            }
            for r in self.basis_rows
        ]


class ReportForm(forms.Form):
    reason = forms.ChoiceField(
        label=_("Why are you reporting this?"),
        choices=Report.Reason.choices,
        widget=forms.RadioSelect,
    )
    details = forms.CharField(
        label=_("Details (optional)"),
        required=False,
        max_length=1000,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text=_("What is wrong, and where? Do not include your own personal data."),
    )

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        if cleaned.get("reason") == Report.Reason.OTHER and not cleaned.get("details", "").strip():
            self.add_error("details", REPORT_OTHER_NEEDS_DETAILS)
        return cleaned


class ReviewForm(forms.Form):
    decision = forms.ChoiceField(choices=[("approve", _("Approve")), ("reject", _("Reject"))])
    reason = forms.CharField(label=_("Reason"), required=False, max_length=500)
    # the answer's revision the reviewer read (services.answer_review's `expected`)
    expected = forms.IntegerField(required=False, min_value=0, widget=forms.HiddenInput)


class DecideForm(forms.Form):
    outcome = forms.ChoiceField(choices=[("upheld", _("Uphold")), ("dismissed", _("Dismiss"))])
    note = forms.CharField(label=_("Note"), required=False, max_length=1000)


class PublishForm(forms.Form):
    title = forms.CharField(label=_("Title"), max_length=120)
    body = forms.CharField(
        label=_("Question"), max_length=20000, widget=forms.Textarea(attrs={"rows": 8})
    )
    include_answer = forms.BooleanField(
        label=_("Include the lawyer's replies as the answer (reviewed before it shows)"),
        required=False,
        initial=True,
    )
    confirm = forms.BooleanField(
        label=_(
            "I choose to publish this consultation as a public, anonymous Q&A. My name is not "
            "shown and phone and ID numbers are masked; I have removed anything else that "
            "identifies me."
        ),
        required=True,
        error_messages={"required": PublishNotConfirmed.message},
    )
