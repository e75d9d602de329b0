"""The staff live dashboard in a real browser."""

from __future__ import annotations

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
