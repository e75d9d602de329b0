"""The lawyer's profile page in a real browser: a new lawyer follows the workbench prompt and
fills in the form as a person would."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from marketplace.models import LawyerProfile
from tests.e2e.conftest import screenshot, sign_in
from tests.factories import TEST_PASSWORD, LawyerProfileFactory

# serialized_rollback: the regions and categories loaded by migrations survive the flush
pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]


def test_new_lawyer_completes_the_profile_from_the_workbench_prompt(
    new_context, web_server, lawyer
):
    # given a new lawyer on the workbench, in Chinese
    page = new_context().new_page()
    sign_in(page, lawyer.username, TEST_PASSWORD)
    page.goto("/workbench/")
    # when they follow the prompt and fill in the form
    page.get_by_role("link", name="完善我的资料").click()
    page.wait_for_url("**/workbench/profile/")
    expect(page.locator("h1")).to_have_text("我的律师资料")
    page.get_by_label("律师执业证号").fill("1370 1201 9123 4567")
    page.get_by_label("常驻城市").select_option(label="济南")
    regions = page.get_by_role("group", name="服务地区")
    regions.locator("summary", has_text="山东").click()
    regions.get_by_label("济南", exact=True).check()
    regions.get_by_label("济宁", exact=True).check()
    page.get_by_label("劳动纠纷").check()
    page.get_by_label("债务与信用卡").check()
    page.get_by_label("同时接待咨询数").fill("5")
    page.get_by_label("每次咨询价格（元）").fill("68")
    screenshot(page, "lawyer_profile_filled")
    page.get_by_role("button", name="提交认证").click()
    # then the page reads pending review and keeps what they entered
    expect(page.locator("[data-verification]")).to_have_attribute("data-verification", "pending")
    expect(page.get_by_role("status")).to_contain_text("您的资料已保存")
    expect(page.get_by_label("律师执业证号")).to_have_value("1370120191234567")
    expect(page.get_by_label("劳动纠纷")).to_be_checked()
    shandong = page.locator("details[open]", has_text="山东")
    expect(shandong.locator("[data-chosen]")).to_have_text("2")
    expect(shandong.get_by_label("济宁", exact=True)).to_be_checked()
    screenshot(page, "lawyer_profile_pending")
    profile = LawyerProfile.objects.get(user=lawyer)
    assert profile.verification == LawyerProfile.Verification.PENDING
    assert (profile.home_city_id, profile.capacity, profile.price) == ("370100", 5, 6800)
    assert sorted(r.code for r in profile.regions_served.all()) == ["370100", "370800"]


@pytest.mark.parametrize("path", ["/workbench/", "/workbench/profile/"])
def test_a_long_rejection_reason_wraps_inside_its_notice_on_a_phone(
    new_context, web_server, lawyer, staff, path
):
    # given staff rejected the lawyer with a reason holding a long link (no space to break at)
    from marketplace import services

    LawyerProfileFactory(user=lawyer, verification=LawyerProfile.Verification.PENDING)
    link = "https://www.12348.gov.cn/#/publicies/lawyerdetail/" + "a1b2c3d4" * 8
    services.lawyer_verify(
        staff=staff, lawyer_id=lawyer.pk, approved=False, reason=f"请核对执业信息：{link}"
    )
    page = new_context(viewport={"width": 390, "height": 844}).new_page()
    sign_in(page, lawyer.username, TEST_PASSWORD)
    # when they open the page on a phone
    page.goto(path)
    # then the reason wraps inside its red notice instead of running off the screen
    # (the workbench also holds a hidden banner, for an approval revoked while it is open)
    notice = page.locator(".notice.bad:visible")
    expect(notice).to_contain_text("a1b2c3d4")
    assert notice.evaluate("n => n.scrollWidth <= n.clientWidth")
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
