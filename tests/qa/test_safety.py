import pytest

from qa.safety import CONTACT_DETAILS, OUTCOME_PROMISE, find_outcome_promises, review_flags


@pytest.mark.parametrize(
    "text",
    [
        "这种案子百分百胜诉",
        "放心,包赢",
        "我们保证胜诉,不胜诉不收费",
        "此案肯定能胜诉",
        "100%胜诉",
        "胜诉率１００％",
        "包你拿回全部欠款",
        "稳赢的官司",
        "保证判缓刑",
        "We guarantee you will win.",
        "Guaranteed to win!",
        "100% win rate",
        "You can't lose this case",
    ],
)
def test_answers_promising_an_outcome_are_flagged(text):
    # when
    flags = review_flags(text)
    # then
    assert [f.code for f in flags] == [OUTCOME_PROMISE]


@pytest.mark.parametrize(
    "text",
    [
        "任何律师都不能保证胜诉,只能尽力争取",
        "法院一般会支持您的诉讼请求",
        "不一定胜诉,要看证据",
        "过户费用由买方承担",
        "包括本金和利息",
        "I cannot guarantee you will win, but your case is strong.",
        "No lawyer can guarantee the outcome.",
    ],
)
def test_careful_wording_is_not_flagged(text):
    # when / then
    assert review_flags(text) == []


def test_flags_say_which_phrase_promised_the_outcome():
    # when
    phrases = find_outcome_promises("这个案子 百分百 胜诉,包赢")
    # then
    assert phrases == ["百分百胜诉", "包赢"]


@pytest.mark.parametrize("text", ["加我微信 lawyer_zhang88 详谈", "电话13812345678联系我"])
def test_contact_details_in_an_answer_are_flagged(text):
    # when
    flags = review_flags(text)
    # then
    assert [f.code for f in flags] == [CONTACT_DETAILS]
