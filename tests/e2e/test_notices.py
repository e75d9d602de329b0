"""The header's notices badge (static/js/notice_count.js) in a real browser: a platform notice
sent while a page with a socket is open bumps the count, and the notices page then shows it."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from messaging import services
from tests.e2e.conftest import screenshot, sign_in
from tests.factories import TEST_PASSWORD, LawyerProfileFactory
from tests.pages.factories import ConsultFactory, open_chat

# serialized_rollback: the regions and categories loaded by migrations survive the flush
pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]


def test_a_notice_sent_while_the_room_is_open_bumps_the_badge_and_shows_on_the_notices_page(
    new_context, web_server, asker, lawyer
):
    # given an asker in a consult room whose socket is open, with no notices yet
    LawyerProfileFactory(user=lawyer)
    consult = ConsultFactory(question__asker=asker)
    open_chat(consult, lawyer, messages=1)
    page = new_context(locale="en-US").new_page()
    page.goto("/")
    page.evaluate("document.cookie = 'django_language=en; path=/'")
    sign_in(page, asker.username, TEST_PASSWORD)
    page.goto(f"/consults/{consult.pk}/")
    expect(page.locator("[data-chat] [data-connection]")).to_have_attribute("data-state", "open")
    badge = page.locator("[data-notice-count]")
    expect(badge).to_be_hidden()

    # when the platform sends a refund notice
    services.notice_send(
        user=asker,
        kind="refund_done",
        context={"consult": consult.pk, "amount": 20000, "currency": "CNY"},
    )

    # then the badge shows one unread notice without a reload
    expect(badge).to_be_visible()
    expect(badge.locator("[data-notice-count-value]")).to_have_text("1")
    screenshot(page, "notices-badge-en")

    # and the notices page shows it, in English, and reads it
    page.locator("[data-notices-link]").click()
    page.wait_for_url("**/notices/")
    expect(page.locator(".notice-list > li")).to_have_count(1)
    expect(page.locator(".notice-list")).to_contain_text(
        f"Your refund of ¥200.00 for consultation #{consult.pk} is done"
    )
    expect(page.locator(".notice-list .badge")).to_have_text("New")
    expect(badge).to_be_hidden()
    screenshot(page, "notices-en")
