"""The public Q&A pages, the staff moderation page and the sitemap."""

import re
from urllib.parse import urlencode

import pytest
from django.test import Client
from django.utils import translation
from django.utils.html import escape

from messaging.models import StaffAccessRecord
from qa import errors as qa_errors
from qa import search
from qa.models import Answer, Report
from qa.view_counts import views_pending
from tests.factories import AskerFactory, LawyerProfileFactory, category, city
from tests.qa.factories import AnswerFactory, PublicQuestionFactory, resolved_consult

pytestmark = pytest.mark.django_db
# the report form's POST for a message: session, user, the way back (the consult), the one check
# that the reporter may see it (the message, a participant row), then the form again (the quote,
# the header's unread count) or the report (open ones, savepoint, insert, release); the POST that
# went through took 12 while the view checked before the service checked again
BOUNCED_REPORT_QUERIES = 7
SENT_REPORT_QUERIES = 9


def results(html: str) -> str:
    """The list of questions of a browse page."""
    match = re.search(r'<ul class="list q-list">.*?</ul>', html, flags=re.S)
    return match.group(0) if match else ""


def signed_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def page_question(asker):
    """A public question in 济南 with two approved answers, a related question and a local
    well-rated lawyer."""
    question = PublicQuestionFactory(
        asker=asker,
        title="请问信用卡透支逾期可以减免利息吗",
        body="信用卡欠三万,逾期半年。我的电话13812345678,身份证370102199001011234。",
    )
    AnswerFactory(
        question=question,
        body="可以协商个性化分期。",
        bases=[("商业银行信用卡业务监督管理办法", "第七十条")],
    )
    AnswerFactory(question=question, body="逾期利息原则上需要偿还。")
    related = PublicQuestionFactory(title="信用卡逾期利息太高能减免吗", body="信用卡逾期三个月")
    for q in (question, related):
        search.index_question(q)
    profile = LawyerProfileFactory(rating_avg="4.90", rating_count=31, response_p50_seconds=150)
    return question, related, profile


def test_the_question_page_shows_what_the_reference_page_shows(client, page_question):
    # given
    question, related, local = page_question
    # when
    html = client.get(f"/questions/{question.pk}/").content.decode()
    # then
    assert "请问信用卡透支逾期可以减免利息吗" in html
    assert "138****5678" in html and "13812345678" not in html
    assert "370102199001011234" not in html
    assert "《商业银行信用卡业务监督管理办法》第七十条" in html
    assert f'href="/questions/{related.pk}/"' in html
    assert f'href="/ask/?lawyer={local.user_id}"' in html
    assert f"/report/?type=question&amp;id={question.pk}" in html
    assert "免责声明" in html
    assert "济南" in html and "匿名" in html


def test_a_lawyer_cards_figures_use_chinese_punctuation():
    from django.template.loader import render_to_string

    # given a well-rated lawyer with public answers that helped people
    profile = LawyerProfileFactory(rating_avg="4.90", rating_count=31)
    profile.answer_count, profile.helped_total = 14, 45  # type: ignore[attr-defined]
    # when the card is shown on a Chinese page
    with translation.override("zh-hans"):
        card = render_to_string("qa/partials/lawyer_card.html", {"p": profile})
    # then the count of ratings sits in full-width brackets and the figures are not joined
    # by an ASCII comma
    assert "（31条评价）" in card and "(31" not in card
    assert "14条公开回答 · 帮助45人" in card


@pytest.mark.parametrize(
    ("language", "joined"),
    [
        ("zh-hans", "专业法律意见。以上内容仅供参考"),
        ("en", "full circumstances. They are for reference only"),
    ],
)
def test_the_qa_footer_joins_its_two_disclaimer_sentences_as_the_language_does(
    client, language, joined
):
    # given a question page
    question = PublicQuestionFactory()
    # when it is read in each language
    html = client.get(f"/questions/{question.pk}/", HTTP_ACCEPT_LANGUAGE=language)
    # then the footer's sentences follow each other with a space in English only
    assert joined in html.content.decode()


def test_the_question_pages_ask_buttons_start_from_its_city_category_and_masked_title(client):
    # given a question whose title carries a phone number
    question = PublicQuestionFactory(title="欠款不还怎么办 联系13812345678", city=city("370100"))
    # when
    html = client.get(f"/questions/{question.pk}/").content.decode()
    # then both buttons open the ask form with the question's city, category and masked title
    link = "/ask/?" + urlencode(
        {
            "city": "370100",
            "category": question.category.slug,
            "title": "欠款不还怎么办 联系138****5678",
        }
    )
    assert html.count(f'href="{escape(link)}"') == 2
    assert "13812345678" not in html


def test_a_question_page_promises_local_lawyers_only_where_there_are_some(client, page_question):
    # given a question in 济南, where a lawyer serves, and one in 青岛, where none does yet
    lonely = PublicQuestionFactory(city=city("370200"))
    # when
    served = client.get(f"/questions/{page_question[0].pk}/").content.decode()
    unserved = client.get(f"/questions/{lonely.pk}/").content.decode()
    # then
    assert "济南本地好评律师为您提供一对一解答" in served
    assert "该城市暂无认证律师" in unserved and "青岛本地好评律师为您提供" not in unserved
    assert "附近城市及全国的认证律师为您提供一对一解答" in unserved


@pytest.mark.parametrize(
    ("query", "link"),
    [
        ("?city=370100&category=debt", "/ask/?city=370100&amp;category=debt"),
        # the ask form wants a city: a province is not passed on as one
        ("?province=370000&category=debt", "/ask/?category=debt"),
        ("?province=370000", 'href="/ask/"'),
    ],
)
def test_browsing_passes_the_city_and_area_on_to_the_ask_form(client, query, link):
    html = client.get(f"/questions/{query}").content.decode()
    assert link in html


def test_browse_pages_name_their_lists_apart_from_the_nav_links(client):
    # when
    questions = client.get("/questions/").content.decode()
    lawyers = client.get("/lawyers/").content.decode()
    # then: the nav's section names do not stand in for the lists' headings
    assert 'id="results-title" class="visually-hidden">问题</h2>' in questions
    assert 'id="lawyers-title" class="visually-hidden">律师</h2>' in lawyers
    assert ">法律问答</a>" in questions
    assert ">找律师</a>" in lawyers
    assert 'class="button cta" href="/ask/">咨询律师</a>' in questions


def test_the_question_page_leaves_its_live_figures_to_the_stats_api(client, page_question):
    # the figures and the ticker are filled in by the page's script from /api/v1/stats/public
    # (live, and the page stays cacheable); without the script they stay hidden, not empty
    html = client.get(f"/questions/{page_question[0].pk}/").content.decode()
    figures = re.search(r'<dl class="stats live-figures" id="live-stats"[^>]*>', html)
    assert figures is not None and " hidden" in figures.group(0)
    assert re.search(r'<ul class="ticker" id="ticker"[^>]*hidden', html)
    assert "在线律师" in html


def test_the_question_page_counts_a_view_even_when_its_fragments_are_cached(client, page_question):
    # given
    question, _, _ = page_question
    client.get(f"/questions/{question.pk}/")
    # when
    client.get(f"/questions/{question.pk}/")
    # then
    assert views_pending(question.pk) == 2
    question.refresh_from_db()
    assert question.view_count == 0  # no database write per view


def test_crawlers_do_not_count_as_views(client, page_question):
    # given
    question, _, _ = page_question
    # when
    client.get(
        f"/questions/{question.pk}/", HTTP_USER_AGENT="Mozilla/5.0 (compatible; Baiduspider/2.0)"
    )
    # then
    assert views_pending(question.pk) == 0


def test_the_question_page_query_count_is_pinned(client, page_question, django_assert_num_queries):
    # given
    question, _, _ = page_question
    # when / then: question, answers, legal bases, related, local lawyers
    with django_assert_num_queries(5):
        client.get(f"/questions/{question.pk}/")
    # and with the related and local-lawyer rankings cached: the same rows read fresh
    with django_assert_num_queries(5):
        client.get(f"/questions/{question.pk}/")


def test_the_question_page_for_a_signed_in_reader_shows_their_likes(
    page_question, other_asker, django_assert_num_queries
):
    # given
    question, _, _ = page_question
    answer = question.answers.first()
    reader = signed_in(other_asker)
    reader.post(f"/answers/{answer.pk}/like/", {"on": "1"})
    # when
    with django_assert_num_queries(8):  # + session, user and the nav's unread notices
        html = reader.get(f"/questions/{question.pk}/").content.decode()
    # then
    assert 'aria-pressed="true"' in html


def test_a_verified_lawyer_answers_from_the_question_page(page_question, verified_lawyer):
    # given
    question, _, _ = page_question
    lawyer = signed_in(verified_lawyer)
    assert "answer-form" in lawyer.get(f"/questions/{question.pk}/").content.decode()
    # when
    response = lawyer.post(
        f"/questions/{question.pk}/answer/",
        {
            "body": "建议先与银行协商个性化分期还款。",
            "statute": ["刑法", "", ""],
            "article": ["第一百九十六条", "", ""],
        },
    )
    # then
    assert response.status_code == 302
    answer = Answer.objects.get(lawyer=verified_lawyer)
    assert answer.status == "pending"
    assert [b.citation for b in answer.legal_bases.all()] == ["《刑法》第一百九十六条"]
    page = lawyer.get(f"/questions/{question.pk}/").content.decode()
    assert "your-answer" in page and "answer-form" not in page


def test_only_askers_and_visitors_are_offered_to_ask(
    client, page_question, asker, verified_lawyer, staff
):
    # given a question page, the question list and a lawyer's page
    question, _, local = page_question
    paths = [f"/questions/{question.pk}/", "/questions/", f"/lawyers/{local.user_id}/"]

    def ask_links(viewer) -> int:
        pages = [viewer.get(path).content.decode() for path in paths]
        return sum(page.count('href="/ask/') for page in pages)

    # when / then: visitors and askers may ask; a lawyer is offered to answer instead
    assert ask_links(client) >= 4 and ask_links(signed_in(asker)) >= 4
    assert ask_links(signed_in(verified_lawyer)) == 0
    assert ask_links(signed_in(staff)) == 0
    page = signed_in(verified_lawyer).get(paths[0]).content.decode()
    assert 'href="#answer-form">回答这个问题</a>' in page


def test_the_question_page_for_a_lawyer_query_count_is_pinned(
    page_question, verified_lawyer, django_assert_num_queries
):
    # given
    question, _, _ = page_question
    lawyer = signed_in(verified_lawyer)
    # when / then: + session, user, the lawyer's own answer and verification, the nav's
    # unread notices
    with django_assert_num_queries(10):
        lawyer.get(f"/questions/{question.pk}/")


def test_a_bad_answer_form_keeps_what_the_lawyer_wrote(page_question, verified_lawyer):
    # given
    question, _, _ = page_question
    # when
    response = signed_in(verified_lawyer).post(
        f"/questions/{question.pk}/answer/",
        {"body": "建议先与银行协商个性化分期还款。", "statute": ["刑法"], "article": ["某条"]},
    )
    # then
    assert response.status_code == 422
    html = response.content.decode()
    assert "建议先与银行协商个性化分期还款。" in html and 'value="某条"' in html


def test_an_unverified_lawyer_gets_no_answer_form(page_question, unverified_lawyer):
    # given
    question, _, _ = page_question
    # when
    html = signed_in(unverified_lawyer).get(f"/questions/{question.pk}/").content.decode()
    # then
    assert "answer-form" not in html


def test_likes_from_the_page_answer_json_for_the_page_script(page_question, other_asker):
    # given
    question, _, _ = page_question
    answer = question.answers.first()
    reader = signed_in(other_asker)
    # when
    liked = reader.post(f"/answers/{answer.pk}/like/", {"on": "1"}, HTTP_ACCEPT="application/json")
    again = reader.post(f"/answers/{answer.pk}/like/", {"on": "1"}, HTTP_ACCEPT="application/json")
    plain = reader.post(f"/answers/{answer.pk}/helpful/", {"on": "1"})
    # then
    assert liked.json() == again.json() == {"liked": True, "like_count": 1}
    assert plain.status_code == 302 and plain["Location"].endswith(f"#answer-{answer.pk}")


def test_browse_by_city_category_and_search(client, django_assert_num_queries):
    # given
    jinan_debt = PublicQuestionFactory(title="信用卡逾期利息", city=city("370100"))
    qingdao_debt = PublicQuestionFactory(title="信用卡被起诉", city=city("370200"))
    jinan_family = PublicQuestionFactory(
        title="离婚抚养权", category=category("family"), city=city("370100")
    )
    for q in (jinan_debt, qingdao_debt, jinan_family):
        search.index_question(q)
    # when
    with django_assert_num_queries(7):  # region, category, count, provinces, cities, areas, page
        by_city = client.get("/questions/city/370100/", {"category": "debt"}).content.decode()
    by_category = client.get("/questions/category/family/").content.decode()
    by_province = client.get("/questions/", {"province": "370000", "q": "信用卡"}).content.decode()
    # then
    assert (
        "信用卡逾期利息" in by_city
        and "信用卡被起诉" not in by_city
        and "离婚抚养权" not in by_city
    )
    assert "离婚抚养权" in results(by_category) and "信用卡逾期利息" not in results(by_category)
    assert "信用卡逾期利息" in by_province and "信用卡被起诉" in by_province


def test_browse_pages_answer_404_for_unknown_places(client):
    # when / then
    assert client.get("/questions/city/999999/").status_code == 404
    assert client.get("/questions/category/astrology/").status_code == 404


def test_the_lawyer_directory_and_profile(client, django_assert_num_queries):
    # given
    jinan = LawyerProfileFactory(firm="德衡律师事务所", response_p50_seconds=120)
    beijing = LawyerProfileFactory(home_city=city("110100"))
    AnswerFactory(lawyer=jinan.user)
    # when
    # region, count, provinces, cities, areas, the page, its lawyers' areas
    with django_assert_num_queries(7):
        listing = client.get("/lawyers/", {"province": "370000"}).content.decode()
    with django_assert_num_queries(5):  # profile, areas, regions, recent answers, their bases
        profile = client.get(f"/lawyers/{jinan.user_id}/").content.decode()
    # then
    assert "德衡律师事务所" in listing and f"/lawyers/{beijing.user_id}/" not in listing
    assert f'href="/ask/?lawyer={jinan.user_id}"' in profile
    assert "/report/?type=lawyer" in profile
    # and what a consult costs, before the asker clicks
    assert re.search(r"<dt>咨询费用</dt><dd>免费</dd>", profile)
    jinan.price = 5000
    jinan.save(update_fields=["price"])
    assert (
        "<dt>咨询费用</dt><dd>¥50.00</dd>"
        in client.get(f"/lawyers/{jinan.user_id}/").content.decode()
    )


def test_an_unverified_lawyer_has_no_public_profile(client, unverified_lawyer):
    # when / then
    assert client.get(f"/lawyers/{unverified_lawyer.pk}/").status_code == 404


def test_reporting_from_the_page(page_question, other_asker):
    # given
    question, _, _ = page_question
    reader = signed_in(other_asker)
    # when
    form = reader.get("/report/", {"type": "question", "id": question.pk})
    sent = reader.post(
        "/report/", {"type": "question", "id": question.pk, "reason": "spam", "details": "广告"}
    )
    duplicate = reader.post("/report/", {"type": "question", "id": question.pk, "reason": "spam"})
    # then
    assert form.status_code == 200
    assert sent.status_code == 302 and sent["Location"] == f"/questions/{question.pk}/"
    assert duplicate.status_code == 409
    assert Report.objects.get().details == "广告"


def test_an_asker_is_not_offered_to_report_their_own_question(page_question, asker):
    # given the asker's own public question, with two answers by lawyers
    question, _, _ = page_question
    # when the asker opens it, and tries the report form all the same
    page = signed_in(asker).get(f"/questions/{question.pk}/").content.decode()
    sent = signed_in(asker).post(
        "/report/", {"type": "question", "id": question.pk, "reason": "spam"}
    )
    # then the question has no report link (the answers keep theirs), and the form says why
    assert f"/report/?type=question&amp;id={question.pk}" not in page
    assert "/report/?type=answer&amp;id=" in page
    assert sent.status_code == 422
    assert escape("不能举报您自己或您自己发布的内容。") in sent.content.decode()
    assert not Report.objects.exists()


def test_a_lawyer_is_not_offered_to_report_their_own_answer(page_question):
    # given a question with an answer by a lawyer
    question, _, _ = page_question
    answer = Answer.objects.filter(question=question).first()
    # when that lawyer reads the question
    page = signed_in(answer.lawyer).get(f"/questions/{question.pk}/").content.decode()
    # then their answer has no report link, and the question keeps its own
    assert f"/report/?type=answer&amp;id={answer.pk}" not in page
    assert f"/report/?type=question&amp;id={question.pk}" in page


def test_reporting_needs_a_sign_in(client, page_question):
    # given
    question, _, _ = page_question
    # when
    response = client.get("/report/", {"type": "question", "id": question.pk})
    # then
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


def test_answer_excerpts_keep_their_line_breaks(verified_lawyer, staff):
    # given a published answer written in lines, and a report on it
    answer = AnswerFactory(lawyer=verified_lawyer, body="您好，\n构成恶意透支需要经过两次催收。")
    signed_in(AskerFactory()).post(
        "/report/", {"type": "answer", "id": answer.pk, "reason": "misleading"}
    )
    # when the lawyer lists their answers and staff open the moderation page
    mine = signed_in(verified_lawyer).get("/answers/mine/").content.decode()
    moderation = signed_in(staff).get("/moderation/").content.decode()
    # then the line break stays a break: a bare newline shows as a space inside Chinese text
    for html in (mine, moderation):
        assert "您好，<br>构成恶意透支" in html


def test_the_moderation_page_is_for_staff_only(
    page_question, staff, verified_lawyer, django_assert_num_queries
):
    # given
    question, _, _ = page_question
    signed_in(verified_lawyer).post(
        f"/questions/{question.pk}/answer/", {"body": "这个官司包赢,请放心。"}
    )
    signed_in(AskerFactory()).post(
        "/report/", {"type": "question", "id": question.pk, "reason": "spam"}
    )
    moderator = signed_in(staff)
    # when
    # session, user, answers, bases, reviews, edits, reports, reported questions, report
    # decisions, answer reviews (the decision log), the nav's unread notices
    with django_assert_num_queries(11):
        html = moderator.get("/moderation/").content.decode()
    as_lawyer = signed_in(verified_lawyer).get("/moderation/")
    # then
    assert "包赢" in html and "flagged" in html
    assert as_lawyer.status_code == 404


def test_staff_approve_and_decide_from_the_moderation_page(
    page_question, staff, verified_lawyer, client
):
    # given
    question, _, _ = page_question
    signed_in(verified_lawyer).post(
        f"/questions/{question.pk}/answer/", {"body": "建议先协商分期还款。"}
    )
    answer = Answer.objects.get(lawyer=verified_lawyer)
    signed_in(AskerFactory()).post(
        "/report/", {"type": "question", "id": question.pk, "reason": "spam"}
    )
    moderator = signed_in(staff)
    # when
    moderator.post(f"/moderation/answers/{answer.pk}/review/", {"decision": "approve"})
    moderator.post(
        f"/moderation/reports/{Report.objects.get().pk}/decide/",
        {"outcome": "upheld", "note": "广告"},
    )
    # then
    assert Answer.objects.get(pk=answer.pk).status == "approved"
    assert client.get(f"/questions/{question.pk}/").status_code == 404  # hidden


def test_a_moderation_decision_is_confirmed_inside_the_section_it_returns_to(
    page_question, staff, verified_lawyer
):
    # given an answer waiting for review
    question, _, _ = page_question
    signed_in(verified_lawyer).post(
        f"/questions/{question.pk}/answer/", {"body": "建议先协商分期还款。"}
    )
    answer = Answer.objects.get(lawyer=verified_lawyer)
    moderator = signed_in(staff)
    # when staff approve it
    response = moderator.post(
        f"/moderation/answers/{answer.pk}/review/", {"decision": "approve"}, follow=True
    )
    # then the page opens at the answers and says so there, not above the heading where the
    # anchor scrolled it out of view
    assert response.redirect_chain[-1][0].endswith("#answers")
    html = response.content.decode()
    assert html.index('id="answers"') < html.index(f"回答 {answer.pk}") < html.index('id="reports"')


def review_article(html: str, answer_id: int) -> str:
    """One answer's item in the moderation page's review queue."""
    match = re.search(rf'<article [^>]*id="review-{answer_id}".*?</article>', html, flags=re.S)
    assert match, f"answer {answer_id} is not in the queue"
    return match.group(0)


def test_a_refused_review_is_shown_beside_its_answer_among_many(staff):
    # given several answers waiting for review
    queued = [AnswerFactory(status=Answer.Status.PENDING, approvals=0) for _ in range(4)]
    rejected = queued[2]
    moderator = signed_in(staff)
    # when staff reject the third without the required reason
    response = moderator.post(f"/moderation/answers/{rejected.pk}/review/", {"decision": "reject"})
    # then the page comes back at that answer, the refusal inside its form, "reject" still
    # chosen, and nowhere else on the page
    html = response.content.decode()
    with translation.override("zh-hans"):
        refusal = str(qa_errors.ReasonRequired.message)
    assert response.status_code == 422
    article = review_article(html, rejected.pk)
    assert refusal in article and html.count(refusal) == 1
    assert f'action="/moderation/answers/{rejected.pk}/review/#review-{rejected.pk}"' in article
    assert re.search(r'value="reject"[^>]*checked', article)
    assert Answer.objects.get(pk=rejected.pk).status == "pending"


def test_a_refused_review_keeps_the_reason_typed(staff):
    # given an answer waiting for review
    answer = AnswerFactory(status=Answer.Status.PENDING, approvals=0)
    too_long = "理由" * 251
    # when staff reject it with a reason over the limit
    response = signed_in(staff).post(
        f"/moderation/answers/{answer.pk}/review/", {"decision": "reject", "reason": too_long}
    )
    # then the reason is still in its field, beside the refusal
    article = review_article(response.content.decode(), answer.pk)
    assert response.status_code == 422
    assert f'value="{too_long}"' in article and 'aria-invalid="true"' in article


def decision_log(html: str) -> str:
    start = html.index('id="decisions"')
    return html[start : html.index("</section>", start)]


def test_the_decision_log_lists_answer_reviews_with_report_decisions_newest_first(
    staff, other_staff, django_assert_num_queries
):
    # given one answer approved, one rejected with a reason, and a report decided
    approved, rejected = (
        AnswerFactory(status=Answer.Status.PENDING, approvals=0, question__title=title)
        for title in ("工伤认定需要哪些材料", "离婚后孩子抚养权归谁")
    )
    moderator = signed_in(staff)
    moderator.post(f"/moderation/answers/{approved.pk}/review/", {"decision": "approve"})
    reported = PublicQuestionFactory()
    signed_in(AskerFactory()).post(
        "/report/", {"type": "question", "id": reported.pk, "reason": "spam"}
    )
    moderator.post(
        f"/moderation/reports/{Report.objects.get().pk}/decide/",
        {"outcome": "dismissed", "note": "没有问题"},
    )
    signed_in(other_staff).post(
        f"/moderation/answers/{rejected.pk}/review/",
        {"decision": "reject", "reason": "未引用法条"},
    )
    # when staff open the moderation page: session, user, answer queue (empty), open reports
    # (none), report decisions, answer reviews, the nav's unread notices
    with django_assert_num_queries(7):
        html = moderator.get("/moderation/").content.decode()
    # then the log shows what each did to which answer, newest first
    log = decision_log(html)
    assert "暂无处理记录" not in log
    rows = re.findall(r"<tr>.*?</tr>", log.split("<tbody>")[1], flags=re.S)
    assert len(rows) == 3
    assert "离婚后孩子抚养权归谁" in rows[0] and "已驳回" in rows[0]
    assert "未引用法条" in rows[0] and other_staff.username in rows[0]
    assert "没有问题" in rows[1] and "举报不成立" in rows[1] and "已驳回" not in rows[1]
    assert "工伤认定需要哪些材料" in rows[2] and "回答已发布" in rows[2]
    assert staff.username in rows[2]


def test_the_decision_log_is_bounded_and_read_in_the_same_queries(staff, django_assert_num_queries):
    # given more reviews than the log shows
    for _ in range(25):
        answer = AnswerFactory(status=Answer.Status.PENDING, approvals=0)
        signed_in(staff).post(f"/moderation/answers/{answer.pk}/review/", {"decision": "approve"})
    moderator = signed_in(staff)
    # when (as above: 7 queries with 3 entries)
    with django_assert_num_queries(7):
        log = decision_log(moderator.get("/moderation/").content.decode())
    # then
    assert log.count("<tr>") == 1 + 20  # the head and the twenty newest


def test_reading_a_reported_message_is_recorded(staff):
    # given
    consult = resolved_consult(replies=["私下转账给我,不走平台"])
    message = consult.conversation.messages.get()
    signed_in(consult.asker).post(
        "/report/", {"type": "message", "id": message.pk, "reason": "fraud"}
    )
    # when
    html = signed_in(staff).get(f"/moderation/messages/{message.pk}/").content.decode()
    # then
    assert "私下转账给我" in html
    assert StaffAccessRecord.objects.filter(staff=staff, conversation=consult.conversation).exists()


def test_a_message_nobody_reported_cannot_be_opened_by_staff(staff):
    # given
    consult = resolved_consult(replies=["您好"])
    message = consult.conversation.messages.get()
    # when / then
    assert signed_in(staff).get(f"/moderation/messages/{message.pk}/").status_code == 404
    assert not StaffAccessRecord.objects.exists()


def test_the_asker_publishes_a_finished_consult_from_its_page():
    # given
    consult = resolved_consult(replies=["可以申请劳动仲裁。"])
    asker = signed_in(consult.asker)
    # when
    form = asker.get(f"/questions/publish/{consult.pk}/").content.decode()
    unconfirmed = asker.post(
        f"/questions/publish/{consult.pk}/", {"title": "拖欠工资", "body": "公司拖欠工资"}
    )
    published = asker.post(
        f"/questions/publish/{consult.pk}/",
        {"title": "拖欠工资", "body": "公司拖欠工资", "include_answer": "on", "confirm": "on"},
    )
    # then
    assert "138****5678" in form and "13812345678" not in form  # prefilled, masked
    assert unconfirmed.status_code == 422
    assert "请确认您要将该咨询以匿名问答的形式公开。" in unconfirmed.content.decode()
    assert published.status_code == 302
    assert signed_in(AskerFactory()).get(f"/questions/publish/{consult.pk}/").status_code == 404


def test_the_pages_speak_english_too(page_question):
    # given
    question, _, _ = page_question
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    client.cookies["django_language"] = "en"
    # when
    html = client.get(f"/questions/{question.pk}/").content.decode()
    # then
    assert "Related questions" in html and "Consult this lawyer" in html


def test_the_default_language_is_chinese(client, page_question):
    # given
    question, _, _ = page_question
    # when
    html = client.get(f"/questions/{question.pk}/").content.decode()
    # then
    assert "相关问题" in html and "咨询该律师" in html


def test_the_sitemap_lists_public_questions(client):
    # given
    listed = PublicQuestionFactory()
    # when
    index = client.get("/sitemap.xml")
    questions = client.get("/sitemaps/questions-1.xml").content.decode()
    pages = client.get("/sitemaps/pages.xml").content.decode()
    robots = client.get("/robots.txt").content.decode()
    # then
    assert index["Content-Type"].startswith("application/xml")
    assert "/sitemaps/questions-1.xml" in index.content.decode()
    assert f"/questions/{listed.pk}/</loc>" in questions
    assert "/questions/city/370100/" in pages
    assert "Sitemap: http://testserver/sitemap.xml" in robots


@pytest.mark.parametrize("page", ["0", "2", "9" * 20])
def test_a_sitemap_page_past_the_last_or_zero_is_404(client, page):
    # given one page of questions
    PublicQuestionFactory()
    # when
    response = client.get(f"/sitemaps/questions-{page}.xml")
    # then
    assert response.status_code == 404


def test_browse_can_show_only_questions_still_waiting_for_an_answer(client):
    # given
    waiting = PublicQuestionFactory(title="工伤认定需要多久")
    answered = PublicQuestionFactory(title="拖欠工资怎么办", status="answered")
    # when
    html = results(client.get("/questions/", {"unanswered": "1"}).content.decode())
    # then
    assert waiting.title in html and answered.title not in html


def test_changing_the_province_drops_the_city_of_the_old_one(client):
    # given
    qingdao = PublicQuestionFactory(title="北京的问题", city=city("110100"))
    # when: the city picker still says 济南 but the province picker now says 北京
    html = client.get("/questions/", {"province": "110000", "city": "370100"}).content.decode()
    # then
    assert qingdao.title in results(html)


def test_a_lawyer_sees_their_answers_and_what_reviewers_decided(
    verified_lawyer, django_assert_num_queries
):
    # given
    AnswerFactory(lawyer=verified_lawyer)
    AnswerFactory(
        lawyer=verified_lawyer,
        status="rejected",
        rejection_reason="法律依据引用错误",
        question=PublicQuestionFactory(title="被驳回的回答所在的问题"),
    )
    lawyer = signed_in(verified_lawyer)
    # when
    # session, user, count, answers+questions, legal bases, open edits, the nav's unread notices
    with django_assert_num_queries(7):
        html = lawyer.get("/answers/mine/").content.decode()
    # then
    assert "法律依据引用错误" in html and "被驳回的回答所在的问题" in html
    assert signed_in(AskerFactory()).get("/answers/mine/").status_code == 404


def test_lawyer_names_read_surname_first_in_chinese_and_first_name_first_otherwise(client):
    # given
    chinese = LawyerProfileFactory()
    chinese.user.last_name, chinese.user.first_name = "李", "建国"
    chinese.user.save()
    latin = LawyerProfileFactory()
    latin.user.first_name, latin.user.last_name = "John", "Smith"
    latin.user.save()
    # when
    html = client.get("/lawyers/").content.decode()
    # then
    assert "李建国" in html
    assert "John Smith" in html and "SmithJohn" not in html


def test_a_lawyer_withdraws_an_answer_from_my_answers_and_may_answer_again(
    page_question, verified_lawyer
):
    # given a lawyer's published answer
    question, _, _ = page_question
    answer = AnswerFactory(
        question=question, lawyer=verified_lawyer, body="可以申请个性化分期还款,需要准备收入证明。"
    )
    lawyer = signed_in(verified_lawyer)
    mine = lawyer.get("/answers/mine/").content.decode()
    assert f'action="/answers/{answer.pk}/withdraw/"' in mine
    # when they withdraw it
    response = lawyer.post(f"/answers/{answer.pk}/withdraw/", follow=True)
    # then My answers says so and offers no second withdrawal, the question page no longer
    # shows it and offers the answer form again
    page = response.content.decode()
    assert "您的回答已撤回，您可以重新回答这个问题。" in page
    assert f'action="/answers/{answer.pk}/withdraw/"' not in page
    question_page = lawyer.get(f"/questions/{question.pk}/").content.decode()
    assert f'id="answer-{answer.pk}"' not in question_page
    assert "您已撤回自己的回答。" in question_page and 'id="answer-form"' in question_page


def test_withdrawing_is_for_the_answers_own_lawyer(page_question, verified_lawyer, asker):
    question, _, _ = page_question
    answer = AnswerFactory(question=question, lawyer=verified_lawyer)

    assert signed_in(asker).post(f"/answers/{answer.pk}/withdraw/").status_code == 404
    other = LawyerProfileFactory().user
    assert signed_in(other).post(f"/answers/{answer.pk}/withdraw/").status_code == 404
    assert signed_in(verified_lawyer).get(f"/answers/{answer.pk}/withdraw/").status_code == 405
    assert Answer.objects.get(pk=answer.pk).status == Answer.Status.APPROVED


# --- reporting from inside a consultation -------------------------------------------------
def test_each_message_of_the_other_person_can_be_reported_from_the_consult_room():
    # given an active consultation with two messages each way
    from tests.pages.factories import ConsultFactory, open_chat

    lawyer = LawyerProfileFactory().user
    consult = ConsultFactory()
    conversation = open_chat(consult, lawyer, messages=4)
    theirs = list(conversation.messages.filter(sender=lawyer).order_by("seq"))
    mine = list(conversation.messages.filter(sender=consult.asker))
    # when the asker opens the room
    html = signed_in(consult.asker).get(f"/consults/{consult.pk}/").content.decode()
    # then each of the lawyer's messages, and only those, has a report link back to the room
    links = re.findall(r'href="/report/\?type=message&amp;id=(\d+)&amp;next=([^"]+)"', html)
    assert [int(pk) for pk, _ in links] == [m.pk for m in theirs]
    assert {back for _, back in links} == {f"/consults/{consult.pk}/".replace("/", "%2F")}
    assert not any(f"id={m.pk}&" in html for m in mine)
    # and the lawyer is reportable by name from the room's header
    assert (
        f'href="/report/?type=lawyer&amp;next=%2Fconsults%2F{consult.pk}%2F&amp;id={lawyer.pk}"'
        in html
    )


def test_the_report_form_quotes_the_message_and_returns_to_the_room():
    # given a lawyer's message in a consultation
    consult = resolved_consult(replies=["先转两千元定金给我个人账户"])
    message = consult.conversation.messages.get()
    reporter = signed_in(consult.asker)
    # when the asker opens the form and sends it, with no page to return to
    form = reporter.get("/report/", {"type": "message", "id": message.pk})
    sent = reporter.post("/report/", {"type": "message", "id": message.pk, "reason": "fraud"})
    # then the form shows what is reported, and the report lands the asker back in the room
    assert "先转两千元定金给我个人账户" in form.content.decode()
    assert sent.status_code == 302 and sent["Location"] == f"/consults/{consult.pk}/"
    assert Report.objects.get().target_id == message.pk


def test_reporting_for_other_without_details_says_the_details_are_needed():
    # given a lawyer's message in a consultation
    consult = resolved_consult(replies=["加我微信私下聊"])
    message = consult.conversation.messages.get()
    reporter = signed_in(consult.asker)
    # when the asker reports it for "Other" and leaves the (otherwise optional) details empty
    with translation.override("zh-hans"):
        sent = reporter.post(
            "/report/",
            {"type": "message", "id": message.pk, "reason": "other", "details": "  "},
            HTTP_ACCEPT_LANGUAGE="zh-hans",
        )
    # then the form says what is missing, beside the details, not "choose what you report"
    html = sent.content.decode()
    assert sent.status_code == 422
    assert escape("选择“其他”时，请说明问题所在。") in html
    assert escape("请选择举报对象和举报理由。") not in html
    assert not Report.objects.exists()


def test_a_stranger_cannot_read_a_message_through_the_report_form():
    # given a message in someone else's consultation
    consult = resolved_consult(replies=["这是私下的建议"])
    message = consult.conversation.messages.get()
    stranger = signed_in(AskerFactory())
    # when a stranger asks for the form, or posts it without a reason so it would render again
    shown = stranger.get("/report/", {"type": "message", "id": message.pk})
    posted = stranger.post("/report/", {"type": "message", "id": message.pk})
    # then both are 404 and nothing quotes the message
    assert shown.status_code == posted.status_code == 404
    assert "这是私下的建议" not in posted.content.decode()


@pytest.mark.parametrize(
    "posted",
    [{"reason": "fraud"}, {"reason": "other", "details": "\x01"}, {"reason": "other"}],
    ids=["a report the service would take", "details the service refuses", "the form refuses"],
)
def test_a_stranger_posting_the_report_form_gets_404_and_no_quote(posted):
    # given a message in someone else's consultation
    consult = resolved_consult(replies=["这是私下的建议"])
    message = consult.conversation.messages.get()
    stranger = signed_in(AskerFactory())
    # when a stranger posts the form, whichever refusal would bounce it
    response = stranger.post("/report/", {"type": "message", "id": message.pk, **posted})
    # then 404, quoting nothing, and nothing reported
    assert response.status_code == 404
    assert "这是私下的建议" not in response.content.decode()
    assert not Report.objects.exists()


def test_a_report_post_checks_what_the_reporter_may_see_once(
    monkeypatch, django_assert_num_queries
):
    # given a lawyer's message the asker may report
    from qa import services

    consult = resolved_consult(replies=["加我微信私下聊"])
    message = consult.conversation.messages.get()
    reporter = signed_in(consult.asker)
    reporter.get("/report/", {"type": "message", "id": message.pk})  # the session is warm
    checks: list[int] = []
    check = services._report_target_refusal
    monkeypatch.setattr(
        services, "_report_target_refusal", lambda **kw: checks.append(1) or check(**kw)
    )
    form = {"type": "message", "id": message.pk}
    # when the service bounces the form (details that are only a control character)
    with django_assert_num_queries(BOUNCED_REPORT_QUERIES):
        bounced = reporter.post("/report/", {**form, "reason": "other", "details": "\x01"})
    # then the form quotes the message, having checked once that the asker may see it
    assert bounced.status_code == 422 and "加我微信私下聊" in bounced.content.decode()
    assert checks == [1]
    # when the report goes through / then once again
    with django_assert_num_queries(SENT_REPORT_QUERIES):
        sent = reporter.post("/report/", {**form, "reason": "fraud"})
    assert sent.status_code == 302
    assert checks == [1, 1]


@pytest.mark.parametrize(("language", "label"), [("zh-hans", "服务地区："), ("en", "Serves: ")])
def test_labels_end_in_the_page_languages_colon(client, verified_lawyer, language, label):
    # given a lawyer's public page, read in Chinese or in English
    client.get("/i18n/setlang/", {"language": language, "next": "/"})
    # when
    html = client.get(f"/lawyers/{verified_lawyer.pk}/").content.decode()
    # then a label ends in that language's colon: full width in Chinese
    assert f"{label}</strong>" in html


# --- former users ----------------------------------------------------------------------------
def test_a_former_lawyers_answer_vouches_for_nobody(api):
    from accounts.services import user_delete
    from tests.factories import TEST_PASSWORD

    # given a verified lawyer from 济南 (surname 王) whose answer is published, who then
    # closed the account
    profile = LawyerProfileFactory(user__last_name="王")
    answer = AnswerFactory(lawyer=profile.user, question__city=city("370200"))
    user_delete(user=profile.user, password=TEST_PASSWORD, confirmed=True, address="127.0.0.1")
    # when the question is read, on its page and through the API
    html = Client().get(f"/questions/{answer.question_id}/").content.decode()
    listed = api(None).get(f"questions/{answer.question_id}/answers").json()
    # then the answer stays under "Former user" with no verified badge, no home city and a
    # blank avatar, not the initial of a placeholder name
    match = re.search(rf'<article class="answer" id="answer-{answer.pk}".*?</header>', html, re.S)
    assert match
    head = match.group(0)
    assert "已注销用户" in head
    assert "已认证" not in head and profile.home_city.name not in head
    assert '<span class="avatar former" aria-hidden="true"></span>' in head
    assert listed[0]["lawyer"]["verified"] is False


# --- the report form -------------------------------------------------------------------------
def test_the_report_form_names_the_question_it_reports(asker):
    # given a public question with a phone number in its title
    question = PublicQuestionFactory(title="被13812345678骚扰怎么办")
    # when someone opens the form to report it
    html = signed_in(asker).get("/report/", {"type": "question", "id": question.pk})
    # then the title shows, masked as on the question page
    page = html.content.decode()
    assert "被138****5678骚扰怎么办" in page and "13812345678" not in page


def test_the_report_form_quotes_the_start_of_the_answer_it_reports(asker):
    # given a long published answer
    answer = AnswerFactory(body="建议先与银行协商分期还款。" + "后面还有很长的分析。" * 30)
    # when
    page = signed_in(asker).get("/report/", {"type": "answer", "id": answer.pk}).content.decode()
    # then an excerpt names it, not the whole answer
    assert "开头为“建议先与银行协商分期还款。" in page
    assert "后面还有很长的分析。" * 10 not in page


def test_the_report_form_names_a_listed_lawyer(asker):
    # given a verified lawyer
    lawyer = LawyerProfileFactory(user__last_name="李", user__first_name="建国").user
    # when
    page = signed_in(asker).get("/report/", {"type": "lawyer", "id": lawyer.pk}).content.decode()
    # then
    assert "李建国律师" in page


def test_the_report_form_does_not_name_a_lawyer_the_reporter_cannot_see(asker):
    # given a lawyer still waiting for verification, whom the reporter never consulted
    from marketplace.models import LawyerProfile

    lawyer = LawyerProfileFactory(
        user__last_name="赵",
        user__first_name="未审",
        verification=LawyerProfile.Verification.PENDING,
    ).user
    # when someone opens the form by the lawyer's id
    page = signed_in(asker).get("/report/", {"type": "lawyer", "id": lawyer.pk}).content.decode()
    # then the form does not tell the name
    assert "赵未审" not in page


def test_the_report_form_names_the_lawyer_of_the_reporters_own_consult():
    # given a consult whose lawyer is no longer listed (verification revoked)
    from marketplace.models import LawyerProfile

    consult = resolved_consult()
    LawyerProfile.objects.filter(user=consult.lawyer).update(
        verification=LawyerProfile.Verification.REJECTED
    )
    # when the asker reports the lawyer from the room
    page = (
        signed_in(consult.asker)
        .get("/report/", {"type": "lawyer", "id": consult.lawyer_id})
        .content.decode()
    )
    # then
    assert f"{consult.lawyer.display_name}律师" in page


# --- punctuation and spacing -----------------------------------------------------------------
def test_an_answers_flags_follow_a_full_width_colon_without_a_space(staff, verified_lawyer):
    # given an answer flagged for promising an outcome
    question = PublicQuestionFactory()
    signed_in(verified_lawyer).post(
        f"/questions/{question.pk}/answer/", {"body": "这个官司包赢，请放心委托。"}
    )
    # when staff open the queue
    html = signed_in(staff).get("/moderation/").content.decode()
    # then
    assert re.search(r"已标记：</strong>承诺", html)


@pytest.mark.parametrize(
    ("language", "figure"),
    [
        ("zh-hans", '★ 4.9<span class="muted">（31条评价）'),
        ("en", '★ 4.9 <span class="muted">(31 ratings)'),
    ],
)
def test_a_lawyer_cards_rating_count_is_spaced_as_the_language_writes_brackets(language, figure):
    from django.template.loader import render_to_string

    # given a rated lawyer
    profile = LawyerProfileFactory(rating_avg="4.90", rating_count=31)
    profile.answer_count, profile.helped_total = 14, 45  # type: ignore[attr-defined]
    # when the card is shown
    with translation.override(language):
        card = render_to_string("qa/partials/lawyer_card.html", {"p": profile})
    # then a space before "(" in English, none before "（" in Chinese
    assert figure in card


def test_the_reported_message_pages_decision_button_and_back_link_are_set_apart(staff):
    # given a reported message
    consult = resolved_consult(replies=["私下转账给我"])
    message = consult.conversation.messages.get()
    signed_in(consult.asker).post(
        "/report/", {"type": "message", "id": message.pk, "reason": "fraud"}
    )
    # when staff open it
    html = signed_in(staff).get(f"/moderation/messages/{message.pk}/").content.decode()
    # then the button and the link sit in a row (which spaces its items), not side by side
    assert re.search(
        r'<div class="row">\s*<button type="submit"[^>]*>提交决定</button>\s*'
        r'<a href="/moderation/#reports">返回审核页面</a>\s*</div>',
        html,
    )


# --- editing an answer from the pages -----------------------------------------------------
EDITED = "补充:协商分期时请保留通话录音和书面材料,银行拒绝的可以向金融监管部门投诉。"


@pytest.fixture
def published_answer(asker):
    question = PublicQuestionFactory(asker=asker, title="信用卡逾期后银行起诉怎么办")
    answer = AnswerFactory(question=question, body="逾期利息原则上需要偿还。")
    LegalBasis = answer.legal_bases.model
    LegalBasis.objects.create(
        answer=answer, position=0, statute="刑法", article="第一百九十六条", excerpt="恶意透支"
    )
    return answer


def test_a_lawyer_edits_a_published_answer_from_its_page(published_answer, client):
    # given the answer's lawyer on its question page
    answer = published_answer
    lawyer = signed_in(answer.lawyer)
    page = lawyer.get(f"/questions/{answer.question_id}/").content.decode()
    assert f'href="/answers/{answer.pk}/edit/"' in page
    # when the lawyer opens the edit form
    form = lawyer.get(f"/answers/{answer.pk}/edit/").content.decode()
    # then it is the answer form, started from the published text and its legal bases
    assert "逾期利息原则上需要偿还。</textarea>" in form
    assert 'value="刑法"' in form and 'value="第一百九十六条"' in form
    assert "data-basis-rows" in form and "提交审核" in form
    # when the lawyer saves a new text, keeping the legal basis
    response = lawyer.post(
        f"/answers/{answer.pk}/edit/",
        {"body": EDITED, "statute": ["刑法", "", ""], "article": ["第一百九十六条", "", ""]},
    )
    # then the page says the edit waits, and readers still see the published text
    assert response.status_code == 302
    assert response["Location"] == f"/questions/{answer.question_id}/#your-answer"
    page = lawyer.get(f"/questions/{answer.question_id}/").content.decode()
    assert "修改正在等待审核" in page
    public = client.get(f"/questions/{answer.question_id}/").content.decode()
    assert "逾期利息原则上需要偿还。" in public and EDITED not in public
    assert "已编辑" not in public and f"/answers/{answer.pk}/edit/" not in public
    # and the excerpt the page has no field for is kept with its citation
    edit = answer.revisions.get()
    assert edit.legal_bases == [
        {"statute": "刑法", "article": "第一百九十六条", "excerpt": "恶意透支"}
    ]


def test_staff_approve_an_edit_beside_the_published_text_and_readers_see_it_edited(
    published_answer, staff, client
):
    # given an edit waiting for review
    answer = published_answer
    signed_in(answer.lawyer).post(
        f"/answers/{answer.pk}/edit/",
        {"body": EDITED, "statute": ["刑法"], "article": ["第一百九十六条"]},
    )
    moderator = signed_in(staff)
    # when staff open the moderation page
    article = review_article(moderator.get("/moderation/").content.decode(), answer.pk)
    # then the edit is shown as one, the published text beside it, and the form names the
    # revision read
    assert "已发布回答的修改" in article
    assert "已发布的内容" in article and "逾期利息原则上需要偿还。" in article
    assert "待审核的修改" in article and EDITED in article
    assert 'name="expected" value="1"' in article
    assert "已标记" not in article and "flagged" not in article
    # when staff approve it
    moderator.post(
        f"/moderation/answers/{answer.pk}/review/", {"decision": "approve", "expected": "1"}
    )
    # then readers see the new text, marked edited with its time
    public = client.get(f"/questions/{answer.question_id}/").content.decode()
    assert EDITED in public and "逾期利息原则上需要偿还。" not in public
    assert re.search(r"已编辑 <time datetime=\"[^\"]+\">\d{4}-\d\d-\d\d \d\d:\d\d</time>", public)
    log = decision_log(moderator.get("/moderation/").content.decode())
    assert "修改已发布" in log and "律师" in log


def test_a_review_of_an_edit_changed_since_is_refused_beside_the_new_text(published_answer, staff):
    # given staff who read edit 1, and the lawyer's edit 2 since
    answer = published_answer
    lawyer = signed_in(answer.lawyer)
    lawyer.post(f"/answers/{answer.pk}/edit/", {"body": EDITED})
    lawyer.post(f"/answers/{answer.pk}/edit/", {"body": EDITED + "第二次修改。"})
    # when staff approve what they read
    response = signed_in(staff).post(
        f"/moderation/answers/{answer.pk}/review/", {"decision": "approve", "expected": "1"}
    )
    # then the refusal is in the answer's form, beside the text now waiting
    assert response.status_code == 409
    article = review_article(response.content.decode(), answer.pk)
    assert "您审核期间律师修改了这条回答" in article and "第二次修改。" in article
    assert 'name="expected" value="2"' in article
    assert Answer.objects.get(pk=answer.pk).body == "逾期利息原则上需要偿还。"


def test_an_edit_promising_an_outcome_is_flagged_for_the_reviewer(published_answer, staff):
    # given a published answer, not flagged, edited to promise an outcome
    signed_in(published_answer.lawyer).post(
        f"/answers/{published_answer.pk}/edit/", {"body": "放心,这个官司包赢,百分百胜诉。"}
    )
    # when
    html = signed_in(staff).get("/moderation/").content.decode()
    # then the edit is flagged for the reviewer
    article = review_article(html, published_answer.pk)
    assert 'class="review-item flagged"' in article and "包赢" in article


def test_a_bad_edit_keeps_what_the_lawyer_wrote(published_answer):
    # when
    response = signed_in(published_answer.lawyer).post(
        f"/answers/{published_answer.pk}/edit/", {"body": "太短了"}
    )
    # then
    assert response.status_code == 422
    assert "太短了</textarea>" in response.content.decode()
    assert not published_answer.revisions.exists()


def test_only_the_answers_own_lawyer_opens_its_edit_form(published_answer, asker, staff):
    path = f"/answers/{published_answer.pk}/edit/"
    for viewer in (LawyerProfileFactory().user, asker, staff):
        assert signed_in(viewer).get(path).status_code == 404
        assert signed_in(viewer).post(path, {"body": EDITED}).status_code == 404
    assert Client().get(path).status_code == 302  # to sign in


def test_a_removed_answers_edit_form_says_why_it_cannot_be_edited(published_answer):
    # given an answer removed after a report
    Answer.objects.filter(pk=published_answer.pk).update(status=Answer.Status.REMOVED)
    # when its lawyer opens the edit form
    response = signed_in(published_answer.lawyer).get(
        f"/answers/{published_answer.pk}/edit/", follow=True
    )
    # then they land on their answers, told why
    assert response.redirect_chain[-1][0] == "/answers/mine/"
    assert "这条回答因举报成立已被删除，不能修改。" in response.content.decode()


def test_my_answers_offers_edit_and_shows_an_edit_waiting_or_refused(published_answer, staff):
    # given the lawyer's published answer, edited, the edit rejected
    lawyer = signed_in(published_answer.lawyer)
    lawyer.post(f"/answers/{published_answer.pk}/edit/", {"body": EDITED})
    waiting = lawyer.get("/answers/mine/").content.decode()
    signed_in(staff).post(
        f"/moderation/answers/{published_answer.pk}/review/",
        {"decision": "reject", "reason": "法条引用错误"},
    )
    # when
    refused = lawyer.get("/answers/mine/").content.decode()
    # then
    assert f'href="/answers/{published_answer.pk}/edit/"' in waiting
    assert "修改待审核" in waiting
    assert "修改未通过" in refused and "法条引用错误" in refused
    page = lawyer.get(f"/questions/{published_answer.question_id}/").content.decode()
    assert "您的修改未通过审核，已发布的内容保持不变。" in page and "理由：法条引用错误" in page
