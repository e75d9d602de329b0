"""The staff live dashboard in a real browser."""

from __future__ import annotations

import base64

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import screenshot, sign_in
from tests.factories import TEST_PASSWORD, LawyerProfileFactory

# serialized_rollback: the regions and categories loaded by migrations survive the flush
pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]


def test_the_dashboard_fits_a_phone_screen(new_context, web_server, staff):
    # given staff on a phone
    page = new_context(viewport={"width": 390, "height": 844}).new_page()
    sign_in(page, staff.username, TEST_PASSWORD)
    # when they open the dashboard and its figures are in
    page.goto("/dashboard/")
    expect(page.locator("[data-revenue] tr[data-period=last_30_days] td").first).to_be_visible()
    screenshot(page, "dashboard_phone")
    # then nothing is wider than the screen: the revenue table scrolls inside its card
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    card = page.locator("#revenue-title").locator("xpath=..")
    assert card.evaluate("c => c.getBoundingClientRect().right <= window.innerWidth")


def test_the_sla_breaches_of_the_week_say_what_they_count(new_context, web_server, staff):
    # given staff on the dashboard, in Chinese and then in English
    page = new_context().new_page()
    sign_in(page, staff.username, TEST_PASSWORD)
    week = page.locator('[data-fig="sla_breaches.week_text"]')
    page.goto("/dashboard/")
    # then the week's figure is a phrase, not a second bare number beside today's
    expect(week).to_have_text("近 7 天共 0 次")
    page.goto("/i18n/setlang/?language=en&next=/dashboard/")
    expect(week).to_have_text("0 in the last 7 days")


def test_the_dashboards_rows_of_cards_do_not_touch(new_context, web_server, staff):
    # given staff on a desktop
    page = new_context().new_page()
    sign_in(page, staff.username, TEST_PASSWORD)
    # when they open the dashboard
    page.goto("/dashboard/")
    # then each row of cards stands apart from the one above, as the cards in a row do
    above = page.locator("#online-title").locator("xpath=../..").bounding_box()
    below = page.locator("#revenue-title").locator("xpath=..").bounding_box()
    assert above is not None and below is not None
    assert below["y"] - (above["y"] + above["height"]) >= 8


def test_deciding_a_verification_counts_it_off_the_badge(new_context, web_server, staff):
    # given two lawyers waiting for verification
    first, _ = LawyerProfileFactory.create_batch(2, verification="pending")
    page = new_context().new_page()
    sign_in(page, staff.username, TEST_PASSWORD)
    page.goto("/dashboard/")
    badge = page.locator("[data-verification-count]")
    expect(badge).to_have_text("2")
    # when staff approve one
    row = page.locator(f'li[data-lawyer="{first.user_id}"]')
    row.get_by_role("button", name="通过").click()
    # then it reads decided and one is left waiting
    expect(row.locator("[data-verify-result]")).to_contain_text("已认证")
    expect(badge).to_have_text("1")


def test_the_verification_list_follows_the_queue_without_a_reload(new_context, web_server, staff):
    # given staff on the dashboard with one lawyer waiting, its socket open
    from marketplace import services
    from tests.factories import StaffFactory

    waiting = LawyerProfileFactory(verification="pending", firm="齐鲁律师事务所")
    newcomer = LawyerProfileFactory(verification="unsubmitted", license_number="", firm="泉城律所")
    page = new_context().new_page()
    sign_in(page, staff.username, TEST_PASSWORD)
    page.goto("/dashboard/")
    expect(page.locator("#dashboard")).to_have_attribute("data-socket", "open")
    page.evaluate("window.notReloaded = true")
    badge = page.locator("[data-verification-count]")
    rows = page.locator("[data-verifications] > li[data-lawyer]")
    expect(rows).to_have_count(1)
    # when a lawyer submits a licence number
    services.lawyer_profile_update(lawyer=newcomer.user, license_number="137012018105555555")
    # then the lawyer appears in the list and the badge counts two
    arrived = page.locator(f'li[data-lawyer="{newcomer.user_id}"]')
    expect(arrived).to_be_visible()
    expect(arrived).to_contain_text("137012018105555555")
    expect(badge).to_have_text("2")
    # when another staff member approves the one who waited
    services.lawyer_verify(staff=StaffFactory(), lawyer_id=waiting.user_id, approved=True)
    # then that one leaves the list, without a reload
    expect(page.locator(f'li[data-lawyer="{waiting.user_id}"]')).to_have_count(0)
    expect(rows).to_have_count(1)
    expect(badge).to_have_text("1")
    assert page.evaluate("window.notReloaded === true")
    page.locator("#verify-title").scroll_into_view_if_needed()
    screenshot(page, "dashboard_verification_live")


def test_staff_revoke_a_lawyer_from_the_lawyers_page(new_context, web_server, staff):
    # given a verified lawyer
    from marketplace.models import LawyerProfile

    profile = LawyerProfileFactory(firm="齐鲁律师事务所")
    page = new_context().new_page()
    sign_in(page, staff.username, TEST_PASSWORD)
    # when staff find the lawyer by licence number and open the revocation
    page.goto("/dashboard/")
    page.locator("[data-lawyers-link]").click()
    page.fill("#lawyer-q", profile.license_number)
    page.get_by_role("button", name="搜索").click()
    row = page.locator(f"#lawyer-{profile.user_id}")
    row.locator("details.revoke > summary").click()
    row.locator("input[name=reason]").fill("执业证已被注销")
    screenshot(page, "staff_lawyers_revoke")
    # then the browser itself asks for the confirmation before sending
    row.locator("form[data-revoke-form] button[type=submit]").click()
    assert LawyerProfile.objects.get(pk=profile.pk).verification == "verified"
    row.locator("input[name=confirm]").check()
    row.locator("form[data-revoke-form] button[type=submit]").click()
    # and once confirmed, the lawyer is rejected, with the decision in the history
    expect(page.locator(".flash")).to_be_visible()
    row = page.locator(f"#lawyer-{profile.user_id}")
    expect(row.locator("[data-status]")).to_have_text("已驳回")
    row.locator("details.history > summary").click()
    expect(row.locator("[data-history]")).to_contain_text("执业证已被注销")
    assert LawyerProfile.objects.get(pk=profile.pk).verification == "rejected"
    screenshot(page, "staff_lawyers_after_revoke")


def test_the_lawyers_page_fits_a_phone_screen(new_context, web_server, staff):
    # given a verified lawyer with a long firm name, and staff on a phone
    LawyerProfileFactory(firm="山东省济南市历下区齐鲁律师事务所（特殊普通合伙）第二分所")
    page = new_context(viewport={"width": 390, "height": 844}).new_page()
    sign_in(page, staff.username, TEST_PASSWORD)
    # when they open the revocation form
    page.goto("/dashboard/lawyers/")
    page.locator("details.revoke > summary").first.click()
    screenshot(page, "staff_lawyers_phone")
    # then nothing is wider than the screen
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")


FIRST_INK_COLUMN = """async ([png, darker_than]) => {
  const bytes = Uint8Array.from(atob(png), (c) => c.charCodeAt(0));
  const bitmap = await createImageBitmap(new Blob([bytes], {type: "image/png"}));
  const canvas = new OffscreenCanvas(bitmap.width, bitmap.height);
  const context = canvas.getContext("2d");
  context.drawImage(bitmap, 0, 0);
  const pixels = context.getImageData(0, 0, bitmap.width, bitmap.height).data;
  for (let x = 0; x < bitmap.width; x++) {
    for (let y = 0; y < bitmap.height; y++) {
      const i = (y * bitmap.width + x) * 4;
      if ((pixels[i] + pixels[i + 1] + pixels[i + 2]) / 3 < darker_than) return x;
    }
  }
  return null;
}"""


def text_start(page, selector: str) -> float:
    """How far right of its border box a control's text starts: the first column of dark ink in
    a screenshot of its left part (inside the border, the select's arrow left out). Computed
    styles cannot tell it: Chromium's inner padding of a select is not in them."""
    found = box(page.locator(selector))
    inset = 3  # past the border and its anti-aliasing
    clip = {
        "x": found["x"] + inset,
        "y": found["y"] + inset,
        "width": found["width"] * 0.6,
        "height": found["height"] - 2 * inset,
    }
    png = base64.b64encode(page.screenshot(clip=clip)).decode()
    column = page.evaluate(FIRST_INK_COLUMN, [png, 110])
    assert column is not None, f"no text seen in {selector}"
    return inset + column


def box(locator) -> dict[str, float]:
    found = locator.bounding_box()
    assert found is not None
    return found


@pytest.mark.parametrize("width", [1280, 390], ids=["desktop", "phone"])
def test_the_lawyers_page_controls_in_a_row_line_up(new_context, web_server, staff, width):
    # given a lawyer waiting for a decision, and staff on a desktop or a phone
    LawyerProfileFactory(verification="pending")
    page = new_context(viewport={"width": width, "height": 900}).new_page()
    sign_in(page, staff.username, TEST_PASSWORD)
    # when they open the lawyers' page
    page.goto("/dashboard/lawyers/")
    search, status = box(page.locator("#lawyer-q")), box(page.locator("#lawyer-status"))
    button = box(page.get_by_role("button", name="搜索"))
    # then the status select is as tall as the search box beside it (it drew ~7px shorter), and
    # so is the Search button; side by side on a desktop, their tops and bottoms meet
    assert abs(status["height"] - search["height"]) < 0.5
    assert abs(button["height"] - search["height"]) < 0.5
    if width >= 560:
        assert abs(status["y"] - search["y"]) < 0.5 and abs(button["y"] - search["y"]) < 0.5
    # and a pending lawyer's approve, reason and reject stand as tall as each other, the reject
    # button's word on one line
    decide = page.locator(".staff-lawyers .decide").first
    reason = box(decide.locator("input[name=reason]"))
    for name in ("通过", "驳回"):
        control = box(decide.get_by_role("button", name=name))
        assert abs(control["height"] - reason["height"]) < 0.5, name
    assert decide.get_by_role("button", name="驳回").evaluate(
        "b => { const r = document.createRange(); r.selectNodeContents(b);"
        " return r.getClientRects().length === 1; }"
    )
    # and the status select's text starts as far inside its border as the search box's text
    # (Chromium drew it 4px further right): measured on the ink, the same words in both
    page.locator("#lawyer-q").evaluate(
        "(q) => { const s = document.querySelector('#lawyer-status');"
        " q.value = s.selectedOptions[0].text; }"
    )
    assert abs(text_start(page, "#lawyer-status") - text_start(page, "#lawyer-q")) <= 1
    screenshot(page, f"staff_lawyers_controls_{width}")
