import pytest
from django.template import Context, Template

from qa.masking import contains_personal_data, mask_personal_data, mask_phone


@pytest.mark.parametrize(
    ("text", "masked"),
    [
        ("我的电话13812345678请联系", "我的电话138****5678请联系"),
        ("手机 138-1234-5678", "手机 138****5678"),
        ("手机 138 1234 5678。", "手机 138****5678。"),
        ("+86 13912345678", "139****5678"),
        ("座机0531-88886666", "座机0531-****6666"),
        ("北京010-12345678", "北京010-****5678"),
    ],
)
def test_phone_numbers_in_public_text_are_masked(text, masked):
    # when
    result = mask_personal_data(text)
    # then
    assert result == masked


@pytest.mark.parametrize(
    ("text", "masked"),
    [
        ("身份证370102199001011234号", "身份证370*************34号"),
        ("身份证号11010119900307663X", "身份证号110*************3X"),
        ("身份证号11010119900307663x,", "身份证号110*************3x,"),
        ("老身份证370102900101123", "老身份证370**********23"),
    ],
)
def test_id_card_numbers_are_masked_without_the_birth_date(text, masked):
    # when
    result = mask_personal_data(text)
    # then
    assert result == masked
    assert "19900101" not in result and "900101" not in result


def test_bank_card_numbers_and_emails_are_masked():
    # given
    text = "卡号6222 0212 3456 7890 123,邮箱zhang.san@qq.com"
    # when
    result = mask_personal_data(text)
    # then
    assert result == "卡号6222***********0123,邮箱z***@qq.com"


@pytest.mark.parametrize(
    "text",
    [
        "借了50000元,2023年3月到期",
        "案号(2023)鲁0102民初1234号",
        "《刑法》第二百六十四条",
        "逾期365天,利息12.5万",
        "拨打12315投诉",
    ],
)
def test_amounts_dates_and_case_numbers_are_left_alone(text):
    # when / then
    assert mask_personal_data(text) == text
    assert not contains_personal_data(text)


def test_two_phone_numbers_side_by_side_are_both_masked():
    # when
    result = mask_personal_data("13812345678 13912345678")
    # then
    assert result == "138****5678 139****5678"


def test_a_stored_phone_is_shown_with_its_middle_digits_hidden():
    # when / then
    assert mask_phone("16212343566") == "162****3566"


def test_template_filter_masks_and_still_escapes_html():
    # given
    template = Template("{% load qa_display %}{{ text|mask_pii }}")
    # when
    html = template.render(Context({"text": "<b>电话13812345678</b>"}))
    # then
    assert html == "&lt;b&gt;电话138****5678&lt;/b&gt;"
