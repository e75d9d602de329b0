"""The Q&A pages in a real browser (Debian's chromium): no script error or CSP violation in
zh-hans and en, likes without a reload, more legal-basis rows on demand; a screenshot of each
page in .screenshots/ (git-ignored)."""

from __future__ import annotations

import asyncio
from concurrent.futures import ThreadPoolExecutor

import pytest

from marketplace import presence
from qa import search
from qa.models import Answer, Report
from tests.e2e.conftest import open_page
from tests.factories import AskerFactory, LawyerProfileFactory, StaffFactory
from tests.pages.factories import ConsultFactory
from tests.qa.factories import AnswerFactory, PublicQuestionFactory, resolved_consult

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]

PHONE_VIEW = {"width": 390, "height": 844}
expect = pytest.importorskip("playwright.sync_api").expect


@pytest.fixture
def qa_world(asker):
    lawyers = []
    for n, (last, first, firm) in enumerate(
        [
            ("李", "建国", "德衡律师事务所"),
            ("王", "芳", "康桥律师事务所"),
            ("张", "伟", "大成律师事务所"),
        ]
    ):
        profile = LawyerProfileFactory(
            firm=firm,
            years_in_practice=6 + n,
            rating_avg=f"4.{9 - n}0",
            rating_count=20 + n,
            response_p50_seconds=90 + 60 * n,
            response_p90_seconds=400 + 60 * n,
        )
        profile.user.last_name, profile.user.first_name = last, first
        profile.user.save()
        lawyers.append(profile.user)
    question = PublicQuestionFactory(
        asker=asker,
        title="请问一下信用卡透支逾期可以减免利息吗",
        body="我在济南办的信用卡,透支了三万元,逾期三个月了。银行天天打电话催收,我的电话13812345678。\n请问利息和违约金能不能减免?",
        view_count=43000,
        helped_count=5,
    )
    AnswerFactory(
        question=question,
        lawyer=lawyers[0],
        body="对于逾期的信用卡,利息原则上需要偿还。\n可以主动联系发卡银行协商个性化分期还款,分期期限一般不超过五年。\n行动建议:\n1、准备收入证明,书面申请分期;\n2、保留沟通记录。",
        like_count=7,
        bases=[("商业银行信用卡业务监督管理办法", "第七十条"), ("民法典", "第六百七十六条")],
    )
    AnswerFactory(
        question=question,
        lawyer=lawyers[1],
        body="只要不是恶意透支,一般不会被追究刑事责任。",
        like_count=2,
    )
    for title in (
        "信用卡逾期利息太高能减免吗",
        "信用卡欠款被银行起诉了怎么办",
        "信用卡逾期会坐牢吗",
    ):
        related = PublicQuestionFactory(title=title, body="信用卡逾期三个月,利息和违约金很高")
        search.index_question(related)
    search.index_question(question)
    return {"question": question, "lawyers": lawyers}


def visit(new_context, user, lang: str, path: str, name: str, *, viewport=None):
    return open_page(new_context, user, lang, path, f"qa-{lang}-{name}", viewport=viewport)


@pytest.mark.parametrize("lang", ["zh-hans", "en"])
def test_the_qa_pages_render_without_script_errors(new_context, qa_world, lang):
    # given
    question, lawyer = qa_world["question"], qa_world["lawyers"][0]
    staff = StaffFactory()
    AnswerFactory(
        question=question,
        status=Answer.Status.PENDING,
        body="放心,这个官司包赢。",
        is_flagged=True,
        flags=[{"code": "outcome_promise", "match": "包赢"}],
    )
    Report.objects.create(
        reporter=AskerFactory(), target_type="question", target_id=question.pk, reason="spam"
    )
    consult = resolved_consult(replies=["可以申请劳动仲裁,仲裁时效为一年。"])
    pages = [
        (None, f"/questions/{question.pk}/", "question"),
        (None, "/questions/?province=370000&category=debt", "browse"),
        (None, "/lawyers/?province=370000", "lawyers"),
        (None, f"/lawyers/{lawyer.pk}/", "lawyer"),
        (AskerFactory(), f"/report/?type=question&id={question.pk}", "report"),
        (staff, "/moderation/", "moderation"),
        (consult.asker, f"/questions/publish/{consult.pk}/", "publish"),
        (LawyerProfileFactory().user, f"/questions/{question.pk}/", "question-lawyer"),
    ]
    problems = {}
    # when
    for user, path, name in pages:
        _page, errors = visit(new_context, user, lang, path, name)
        if errors:
            problems[name] = errors
    _page, errors = visit(
        new_context, None, lang, f"/questions/{question.pk}/", "question-phone", viewport=PHONE_VIEW
    )
    if errors:
        problems["question-phone"] = errors
    # then
    assert problems == {}


@pytest.mark.parametrize("lang", ["zh-hans", "en"])
def test_the_question_page_shows_who_is_online_and_who_just_asked(new_context, qa_world, lang):
    # given a lawyer online and a consult just posted by an asker with a phone number
    lawyer = LawyerProfileFactory()
    heartbeat = presence.heartbeat(
        lawyer.user_id, home=presence.Home("370100", "370000"), status="online"
    )
    with ThreadPoolExecutor(1) as other_thread:  # this one runs Playwright's event loop
        other_thread.submit(asyncio.run, heartbeat).result()
    ConsultFactory(question__asker=AskerFactory(phone="16212343566"))
    # when an anonymous visitor opens a question
    page, errors = visit(
        new_context, None, lang, f"/questions/{qa_world['question'].pk}/", "question-live"
    )
    # then its "problem not solved?" card shows the live figures and who asked, by city only
    card = page.locator(".ask-cta")
    expect(card.locator("#live-stats")).to_be_visible()
    expect(card.locator('[data-stat="lawyers_online"]')).to_have_text("1")
    expect(card.locator('[data-stat="satisfaction_rate"]')).to_have_text(
        "no ratings yet" if lang == "en" else "暂无评价"
    )
    expect(card.locator("#ticker li")).to_have_count(1)
    expect(card.locator("#ticker .who")).to_have_text(
        "A user in Jining" if lang == "en" else "济宁的用户"
    )
    assert "3566" not in card.inner_text() and "****" not in card.inner_text()
    assert "16212343566" not in page.content()
    assert errors == []


def test_a_like_updates_the_count_without_a_reload(new_context, qa_world, other_asker):
    # given
    page, _ = visit(
        new_context,
        other_asker,
        "zh-hans",
        f"/questions/{qa_world['question'].pk}/",
        "question-signed-in",
    )
    answer = qa_world["question"].answers.order_by("-like_count").first()
    button = page.locator(f"#answer-{answer.pk} form[data-reaction=like] button")
    page.evaluate("window.__marker = 1")
    # when
    button.click()
    # then
    expect(button).to_have_attribute("aria-pressed", "true")
    assert button.locator("[data-count]").inner_text() == "8"
    assert page.evaluate("window.__marker") == 1  # same document: no reload
    assert Answer.objects.get(pk=answer.pk).like_count == 8


def test_a_lawyer_adds_legal_basis_rows_as_needed(new_context, qa_world):
    # given
    lawyer = LawyerProfileFactory().user
    page, _ = visit(
        new_context, lawyer, "zh-hans", f"/questions/{qa_world['question'].pk}/", "answer-form"
    )
    rows = page.locator(".basis-row")
    assert rows.nth(2).is_hidden()
    # when
    page.click("[data-add-basis]")
    # then
    assert rows.nth(2).is_visible() and rows.nth(3).is_hidden()


@pytest.mark.parametrize("lang", ["zh-hans", "en"])
def test_a_refused_review_opens_the_moderation_page_at_its_answer(new_context, lang):
    from qa import services

    # given a long review queue, and a log with an approval, a rejection and a report decision
    staff = StaffFactory()
    decided = [AnswerFactory(status=Answer.Status.PENDING, approvals=0) for _ in range(2)]
    services.answer_review(staff=staff, answer_id=decided[0].pk, approve=True)
    services.answer_review(
        staff=StaffFactory(), answer_id=decided[1].pk, approve=False, reason="未引用法条"
    )
    report = Report.objects.create(
        reporter=AskerFactory(),
        target_type="question",
        target_id=decided[0].question_id,
        reason="spam",
    )
    services.report_decide(staff=staff, report_id=report.pk, upheld=False, note="没有问题")
    queued = [
        AnswerFactory(
            status=Answer.Status.PENDING,
            approvals=0,
            body="这个官司包赢，请放心委托。" if n == 0 else "建议先与对方协商，保留证据。" * 8,
            is_flagged=n == 0,
            flags=[{"code": "outcome_promise", "match": "包赢"}] if n == 0 else [],
        )
        for n in range(6)
    ]
    page, errors = visit(new_context, staff, lang, "/moderation/", "moderation-log")
    # when staff reject the fifth answer without giving a reason
    target = queued[4]
    form = page.locator(f"#review-{target.pk} form")
    form.locator("input[value=reject]").check()
    with page.expect_navigation():
        form.locator("button[type=submit]").click()
    page.screenshot(path=f".screenshots/qa-{lang}-moderation-refused.png")
    # then the page opens at that answer with the refusal in its form, in view
    refusal = page.locator(f"#review-{target.pk}-error")
    expect(refusal).to_be_visible()
    expect(refusal).to_be_in_viewport()
    expect(page.locator(f"#review-{target.pk} input[value=reject]")).to_be_checked()
    assert page.url.endswith(f"#review-{target.pk}")
    assert Answer.objects.get(pk=target.pk).status == Answer.Status.PENDING
    # (the refused form's page comes with its 422, which the console notes)
    assert [e for e in errors if "422" not in e] == []


@pytest.mark.parametrize("lang", ["zh-hans", "en"])
def test_the_reported_message_page(new_context, lang):
    # given a reported message
    consult = resolved_consult(replies=["私下转账给我，不走平台"])
    message = consult.conversation.messages.get()
    Report.objects.create(
        reporter=consult.asker, target_type="message", target_id=message.pk, reason="fraud"
    )
    # when staff open it, then it renders without script errors (and a screenshot to look at)
    page, errors = visit(
        new_context, StaffFactory(), lang, f"/moderation/messages/{message.pk}/", "message"
    )
    button = page.locator("main form button[type=submit]").bounding_box()
    back = page.locator("main form a").bounding_box()
    assert button and back and back["x"] - (button["x"] + button["width"]) >= 8
    assert errors == []


@pytest.mark.parametrize("lang", ["zh-hans", "en"])
def test_a_lawyer_edits_an_answer_and_staff_approve_it_beside_the_published_text(
    new_context, qa_world, lang
):
    # given the lawyer of a published answer with two legal bases, on its question page
    question = qa_world["question"]
    lawyer = qa_world["lawyers"][0]
    answer = question.answers.get(lawyer=lawyer)
    page, errors = visit(new_context, lawyer, lang, f"/questions/{question.pk}/", "edit-link")
    # when the lawyer follows "Edit" under the answer
    with page.expect_navigation():
        page.locator(f"#answer-{answer.pk} a[href$='/edit/']").click()
    # then the answer form holds the answer's text and bases, the empty rows folded
    expect(page.locator("textarea[name=body]")).to_have_value(answer.body)
    rows = page.locator(".basis-row")
    expect(rows.nth(1).locator("input[name=article]")).to_have_value("第六百七十六条")
    assert rows.nth(2).is_hidden()
    # when the lawyer saves a new text on a phone-sized window
    page.set_viewport_size(PHONE_VIEW)
    page.fill("textarea[name=body]", "补充:协商时请书面申请个性化分期,并保留银行的答复。")
    with page.expect_navigation():
        page.locator("#answer-form button[type=submit]").click()
    # then the page says the edit waits, and the published text is still the one shown
    expect(page.locator("#your-edit")).to_be_visible()
    expect(page.locator(f"#answer-{answer.pk} .answer-body")).to_contain_text("利息原则上需要偿还")
    # when staff approve the edit from the moderation page
    staff_page, staff_errors = visit(
        new_context, StaffFactory(), lang, "/moderation/", "moderation-edit"
    )
    item = staff_page.locator(f"#review-{answer.pk}")
    expect(item.locator(".edit-side")).to_have_count(2)
    item.locator("input[value=approve]").check()
    with staff_page.expect_navigation():
        item.locator("button[type=submit]").click()
    # then readers see the new text, marked edited
    reader, reader_errors = visit(
        new_context, None, lang, f"/questions/{question.pk}/", "edited", viewport=PHONE_VIEW
    )
    shown = reader.locator(f"#answer-{answer.pk}")
    expect(shown.locator(".answer-body")).to_contain_text("书面申请个性化分期")
    expect(shown.locator(".edited")).to_contain_text("Edited" if lang == "en" else "已编辑")
    assert errors + staff_errors + reader_errors == []
