import pytest

from marketplace.models import Question
from qa import search
from qa.selectors import RELATED_CANDIDATES_PER_SLOT, questions_related, questions_similar
from tests.factories import category, city
from tests.qa.factories import PublicQuestionFactory

pytestmark = pytest.mark.django_db

CORPUS = {
    "card_interest": (
        "debt",
        "370100",
        "信用卡逾期三个月,利息和违约金可以减免吗",
        "信用卡透支两万元逾期了,银行催收,想申请停息挂账减免利息。",
    ),
    "card_lawsuit": (
        "debt",
        "370200",
        "信用卡欠款被银行起诉了怎么办",
        "信用卡逾期半年,银行说要起诉我,还说恶意透支要报案。",
    ),
    "loan": (
        "debt",
        "371500",
        "朋友借钱不还怎么起诉",
        "借给朋友五万元,有借条和转账记录,到期一直不还。",
    ),
    "traffic": (
        "traffic",
        "370100",
        "交通事故对方全责误工费怎么算",
        "骑电动车被小轿车撞了,交警认定对方全责,住院十五天。",
    ),
    "custody": (
        "family",
        "370100",
        "离婚后孩子抚养权归谁",
        "孩子五岁,离婚时双方都想要抚养权,法院怎么判?",
    ),
    "wages": (
        "labour",
        "370200",
        "公司不签劳动合同可以要双倍工资吗",
        "入职八个月公司一直没签劳动合同,现在被辞退了。",
    ),
}


def make_corpus() -> dict[str, Question]:
    questions = {}
    for key, (slug, code, title, body) in CORPUS.items():
        q = PublicQuestionFactory(title=title, body=body, category=category(slug), city=city(code))
        search.index_question(q)
        questions[key] = q
    return questions


def test_segment_keeps_legal_words_and_drops_function_words():
    # when
    words = search.segment("请问一下信用卡透支逾期可以减免利息吗")
    # then
    assert {"信用卡", "透支", "逾期", "减免", "利息"} <= set(words)
    assert not {"请问", "一下", "可以", "吗"} & set(words)


def test_a_chinese_query_finds_the_questions_about_the_same_problem_first():
    # given
    corpus = make_corpus()
    # when
    found = questions_similar(text="信用卡逾期了,利息能不能减免", limit=5)
    # then
    assert found[0] == corpus["card_interest"]
    assert corpus["card_lawsuit"] in found
    assert not {corpus["traffic"], corpus["custody"], corpus["wages"]} & set(found)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("被车撞了对方全责怎么赔偿误工费", "traffic"),
        ("离婚的时候孩子判给谁", "custody"),
        ("没有签劳动合同能要二倍工资吗", "wages"),
        ("借条到期借钱不还", "loan"),
    ],
)
def test_chinese_queries_written_differently_still_find_their_question(text, expected):
    # given
    corpus = make_corpus()
    # when
    found = questions_similar(text=text, limit=3)
    # then
    assert found and found[0] == corpus[expected]


def test_related_questions_of_a_question_are_about_the_same_problem():
    # given
    corpus = make_corpus()
    question = PublicQuestionFactory(
        title="请问信用卡透支逾期可以减免利息吗",
        body="信用卡逾期了,利息太高还不上。",
        category=category("debt"),
    )
    search.index_question(question)
    # when
    related = questions_related(question)
    # then
    assert related[:2] == [corpus["card_interest"], corpus["card_lawsuit"]]
    assert question not in related
    assert corpus["custody"] not in related


def test_similar_questions_filter_by_city_province_and_category():
    # given
    corpus = make_corpus()
    # when
    in_jinan = questions_similar(text="信用卡逾期", region=city("370100"))
    in_shandong = questions_similar(text="信用卡逾期", region=city("370000"))
    in_family = questions_similar(text="信用卡 孩子", category=category("family"))
    # then
    assert in_jinan == [corpus["card_interest"]]
    assert set(in_shandong) == {corpus["card_interest"], corpus["card_lawsuit"]}
    assert in_family == [corpus["custody"]]


def test_bulk_indexing_gives_the_same_vector_as_indexing_one_question():
    # given
    one = PublicQuestionFactory(title="交通事故误工费怎么算", body="对方全责,住院十五天")
    many = PublicQuestionFactory(title="交通事故误工费怎么算", body="对方全责,住院十五天")
    # when
    search.index_question(one)
    indexed = search.index_questions([many])
    # then
    vectors = dict(
        Question.objects.filter(pk__in=[one.pk, many.pk]).values_list("pk", "search_vector")
    )
    assert indexed == 1
    assert vectors[one.pk] == vectors[many.pk] and vectors[one.pk]


def test_text_of_only_function_words_finds_nothing():
    # given
    make_corpus()
    # when / then
    assert questions_similar(text="请问一下怎么办呢") == []


def test_related_questions_repeat_no_title():
    # given: the same question asked again in the same words, in other cities
    corpus = make_corpus()
    question = corpus["card_interest"]
    for code in ("370200", "370300"):
        twin = PublicQuestionFactory(title=question.title, body=question.body, city=city(code))
        search.index_question(twin)
    again = PublicQuestionFactory(
        title=corpus["card_lawsuit"].title, body="信用卡逾期半年,银行起诉了", city=city("370300")
    )
    search.index_question(again)
    # when
    related = questions_related(question)
    # then: neither this question's title nor any other one twice
    titles = [q.title for q in related]
    assert question.title not in titles
    assert len(titles) == len(set(titles))
    assert corpus["card_lawsuit"].title in titles


def test_a_question_asked_many_times_over_still_has_related_questions(settings):
    # given a question whose exact title was asked again more often than the candidates
    # the page reads, and one other question about the same problem
    settings.QA_FRAGMENT_CACHE_SECONDS = 0
    corpus = make_corpus()
    question = corpus["card_interest"]
    for n in range(settings.QA_RELATED_LIMIT * RELATED_CANDIDATES_PER_SLOT + 2):
        twin = PublicQuestionFactory(title=question.title, body=f"{question.body} 第{n}次")
        search.index_question(twin)
    # when
    related = questions_related(question)
    # then the other question still shows, and no copy of this one
    assert corpus["card_lawsuit"] in related
    assert question.title not in [q.title for q in related]
