"""A lawyer hears what happened to each public answer: published, rejected (with the reason) or
removed after a report, by a notice a task delivers after commit."""

from __future__ import annotations

import time

import pytest
from django.test import Client
from django.utils import translation

from accounts.models import User
from messaging.models import Message
from messaging.notices import ANSWER_PUBLISHED, notice_link, render_notice
from messaging.services import notice_send
from qa import services
from qa.models import Report
from tests.factories import AskerFactory, LawyerProfileFactory
from tests.qa.factories import AnswerFactory, PublicQuestionFactory

BODY = "根据法律规定，逾期利息需要偿还，可以与银行协商个性化分期，并保留沟通记录。"


def _inbox_of(lawyer: User, count: int) -> list[Message]:
    inbox = Message.objects.filter(conversation__participants__user=lawyer).order_by("seq")
    deadline = time.monotonic() + 10
    while inbox.count() < count:
        assert time.monotonic() < deadline, list(inbox.values_list("notice", flat=True))
        time.sleep(0.05)
    return list(inbox)


@pytest.mark.django_db(transaction=True)
def test_the_lawyer_hears_when_an_answer_is_published_rejected_or_removed(
    celery_test_worker, staff
):
    # given a lawyer with two answers waiting for review, on two questions
    lawyer = LawyerProfileFactory().user
    first, second = PublicQuestionFactory(), PublicQuestionFactory()
    kept = services.answer_create(lawyer=lawyer, question_id=first.pk, body=BODY)
    refused = services.answer_create(lawyer=lawyer, question_id=second.pk, body=BODY)
    # when staff publish one and reject the other, and later uphold a report on the published one
    services.answer_review(staff=staff, answer_id=kept.pk, approve=True)
    services.answer_review(staff=staff, answer_id=refused.pk, approve=False, reason="承诺了结果")
    report = services.report_create(
        reporter=AskerFactory(), target_type="answer", target_id=kept.pk, reason="misleading"
    )
    services.report_decide(staff=staff, report_id=report.pk, upheld=True)
    # then the lawyer's inbox holds the three notices, in that order, each about its answer
    published, rejected, removed = _inbox_of(lawyer, 3)
    assert [m.notice["kind"] for m in (published, rejected, removed)] == [
        "answer_published",
        "answer_rejected",
        "answer_removed",
    ]
    assert published.notice["params"]["answer"] == kept.pk
    assert rejected.notice["params"]["answer"] == refused.pk
    assert Report.objects.get(pk=report.pk).status == Report.Status.UPHELD
    with translation.override("zh-hans"):
        text = render_notice(rejected.notice["kind"], rejected.notice["params"])
    assert "承诺了结果" in text and second.title in text
    # and each leads where the lawyer can act: the question, or their list of answers
    assert notice_link(published.notice) == f"/questions/{first.pk}/"
    assert notice_link(rejected.notice) == f"/questions/{second.pk}/"
    assert notice_link(removed.notice) == "/answers/mine/"


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("language", "reason", "expected"),
    [
        ("zh-hans", "请引用法条原文。", "：请引用法条原文。您可以重新回答这个问题。"),
        ("zh-hans", "请引用法条原文", "：请引用法条原文。您可以重新回答这个问题。"),
        ("en", "Cite the article.", ": Cite the article. You may answer the question again."),
        ("en", "Cite the article", ": Cite the article. You may answer the question again."),
    ],
)
def test_a_rejection_notice_ends_the_reviewers_reason_in_the_readers_language(
    language, reason, expected
):
    # given an answer rejected with a reason that may or may not end its sentence
    answer = AnswerFactory(status="rejected", rejection_reason=reason)
    notice = notice_send(user=answer.lawyer, kind="answer_rejected", context={"answer": answer.pk})
    # when the notice is read
    with translation.override(language):
        text = render_notice(notice.notice["kind"], notice.notice["params"])
    # then the reason ends with one full stop of the reader's language, and no stray space
    assert text.endswith(expected)


@pytest.mark.django_db
def test_an_approval_short_of_the_rounds_needed_sends_nothing(
    django_capture_on_commit_callbacks, staff, settings
):
    # given an answer that needs two reviewers
    settings.QA_ANSWER_REVIEW_ROUNDS = 2
    lawyer = LawyerProfileFactory().user
    answer = services.answer_create(
        lawyer=lawyer, question_id=PublicQuestionFactory().pk, body=BODY
    )
    # when one approves
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        services.answer_review(staff=staff, answer_id=answer.pk, approve=True)
    # then no notice is on its way yet: the answer is still waiting
    assert callbacks == []


@pytest.mark.django_db
def test_the_notice_quotes_the_title_masked_and_cut_short():
    # given a published answer to a question whose title holds a phone number and runs long
    title = "13812345678 这个号码的主人借钱不还，" + "我该怎么办才能把钱要回来" * 4
    answer = AnswerFactory(question=PublicQuestionFactory(title=title))
    # when the notice is sent
    notice = notice_send(user=answer.lawyer, kind=ANSWER_PUBLISHED, context={"answer": answer.pk})
    # then the title is masked and cut, and a second send finds the first
    quoted = notice.notice["params"]["title"]
    assert "13812345678" not in quoted and quoted.startswith("138****5678")
    assert len(quoted) == 40 and quoted.endswith("…")
    again = notice_send(user=answer.lawyer, kind=ANSWER_PUBLISHED, context={"answer": answer.pk})
    assert again.pk == notice.pk


@pytest.mark.django_db
def test_a_notice_about_anothers_answer_is_refused():
    from messaging.errors import InvalidNotice

    answer = AnswerFactory()
    with pytest.raises(InvalidNotice):
        notice_send(
            user=LawyerProfileFactory().user, kind=ANSWER_PUBLISHED, context={"answer": answer.pk}
        )


@pytest.mark.django_db
def test_the_notices_page_links_an_answer_notice_to_its_question():
    # given a lawyer told that an answer is published
    answer = AnswerFactory()
    notice_send(user=answer.lawyer, kind=ANSWER_PUBLISHED, context={"answer": answer.pk})
    client = Client()
    client.force_login(answer.lawyer)
    # when the lawyer opens the notices
    html = client.get("/notices/").content.decode()
    # then the notice links to the question's page
    assert f'href="/questions/{answer.question_id}/"' in html


@pytest.mark.django_db(transaction=True)
def test_the_lawyer_hears_of_every_edit_rejected_or_published(celery_test_worker, staff):
    # given a published answer
    lawyer = LawyerProfileFactory().user
    question = PublicQuestionFactory()
    answer = services.answer_create(lawyer=lawyer, question_id=question.pk, body=BODY)
    services.answer_review(staff=staff, answer_id=answer.pk, approve=True)
    # when staff reject an edit, then a second one, and publish a third
    for reason in ("没有引用法条。", "仍然没有引用法条"):
        services.answer_edit(lawyer=lawyer, answer_id=answer.pk, body=f"{BODY}修改:{reason}")
        services.answer_review(staff=staff, answer_id=answer.pk, approve=False, reason=reason)
    services.answer_edit(lawyer=lawyer, answer_id=answer.pk, body=BODY + "补充法条。")
    services.answer_review(staff=staff, answer_id=answer.pk, approve=True)
    # then each edit's outcome reaches the lawyer, after the answer's own publication
    _, first, second, published = _inbox_of(lawyer, 4)
    assert [m.notice["kind"] for m in (first, second, published)] == [
        "answer_edit_rejected",
        "answer_edit_rejected",
        "answer_edit_published",
    ]
    assert first.notice["params"]["revision"] != second.notice["params"]["revision"]
    assert {m.notice["params"]["answer"] for m in (first, second, published)} == {answer.pk}
    with translation.override("zh-hans"):
        text = render_notice(second.notice["kind"], second.notice["params"])
    assert text == (
        f"您对“{question.title}”的回答所做的修改未通过审核：仍然没有引用法条。"
        "已发布的内容保持不变，您可以再次修改。"
    )
    with translation.override("en"):
        text = render_notice(first.notice["kind"], first.notice["params"])
    assert text.endswith(": 没有引用法条. The published text stays; you may edit it again.")
    # and each leads to the answer: the refusals to the lawyer's own answer and its reason
    assert notice_link(first.notice) == f"/questions/{question.pk}/#your-answer"
    assert notice_link(published.notice) == f"/questions/{question.pk}/#answer-{answer.pk}"


@pytest.mark.django_db
def test_a_notice_about_anothers_edit_is_refused():
    from messaging.errors import InvalidNotice

    answer = AnswerFactory()
    services.answer_edit(lawyer=answer.lawyer, answer_id=answer.pk, body=BODY + "修改。")
    edit = answer.revisions.get()
    with pytest.raises(InvalidNotice):
        notice_send(
            user=LawyerProfileFactory().user,
            kind="answer_edit_rejected",
            context={"revision": edit.pk},
        )
