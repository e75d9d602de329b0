"""static/js/format.js in a real browser whose time zone and locale are not the site's: the times
the scripts write read as the server renders them, in the site's zone on a 24-hour clock."""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.conf import settings
from django.utils import translation
from playwright.sync_api import expect

from messaging import services
from pages.templatetags.lawline_format import duration
from tests.e2e.conftest import sign_in
from tests.factories import TEST_PASSWORD, LawyerProfileFactory, StaffFactory
from tests.pages.factories import ConsultFactory, open_chat

# serialized_rollback: the regions and categories loaded by migrations survive the flush
pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]

# 12 or 13 hours behind the site's Asia/Shanghai, with a 12-hour clock by default
ELSEWHERE = {"locale": "en-US", "timezone_id": "America/New_York"}
SITE_ZONE = ZoneInfo(settings.TIME_ZONE)


def open_elsewhere(new_context, user, path: str):
    """Open `path` in English, as `user` (None: anonymous), from a browser in New York."""
    page = new_context(**ELSEWHERE).new_page()
    page.goto("/")
    page.evaluate("document.cookie = 'django_language=en; path=/'")
    if user is not None:
        sign_in(page, user.username, TEST_PASSWORD)
    page.goto(path)
    return page


def test_a_live_message_shows_the_time_the_server_shows_after_a_reload(new_context, asker, lawyer):
    # given an asker in a consult's chat, from a browser in New York
    LawyerProfileFactory(user=lawyer)
    consult = ConsultFactory(question__asker=asker)
    conversation = open_chat(consult, lawyer)
    page = open_elsewhere(new_context, asker, f"/consults/{consult.pk}/")
    expect(page.locator("[data-chat] [data-connection]")).to_have_attribute("data-state", "open")
    # when the lawyer's message arrives live
    services.message_send(
        sender=lawyer, conversation_id=conversation.pk, client_id="tz-1", body="What time is it?"
    )
    live = page.locator(".chat-log li.msg", has_text="What time is it?").locator("time")
    expect(live).not_to_be_empty()
    live_text = live.text_content()
    # then the server renders the same time for it after a reload: the site's, on a 24-hour clock
    page.reload()
    rendered = page.locator(".chat-log li.msg", has_text="What time is it?").locator("time")
    expect(rendered).to_have_text(live_text)
    assert re.fullmatch(r"\d\d:\d\d", live_text), live_text


def test_the_dashboard_update_time_is_the_sites_on_a_24_hour_clock(new_context):
    # given staff from a browser in New York
    staff = StaffFactory()
    # when they open the live dashboard
    page = open_elsewhere(new_context, staff, "/dashboard/")
    updated = page.locator("[data-updated]")
    expect(updated).not_to_be_empty()
    # then its "Updated" time is the snapshot's time in the site's zone
    generated_at = datetime.fromisoformat(updated.get_attribute("datetime"))
    assert updated.text_content() == generated_at.astimezone(SITE_ZONE).strftime("%H:%M")


def test_the_home_page_stats_update_time_is_the_sites_on_a_24_hour_clock(new_context):
    # given an anonymous visitor from a browser in New York
    # when they open the home page and its live figures refresh
    page = open_elsewhere(new_context, None, "/")
    updated = page.locator("#stats-updated")
    expect(updated).not_to_be_empty()
    # then the refresh time is the site's time now, to the second
    shown = datetime.strptime(updated.text_content(), "%H:%M:%S").time()
    now = datetime.now(SITE_ZONE)
    shown_at = datetime.combine(now.date(), shown, tzinfo=SITE_ZONE)
    gap = abs(now - shown_at) % timedelta(days=1)
    assert min(gap, timedelta(days=1) - gap) < timedelta(minutes=1), (shown, now)


@pytest.mark.parametrize("lang", ["zh-hans", "en"])
def test_scripts_write_durations_as_the_server_does(new_context, lang):
    # given a page in `lang`
    page = new_context().new_page()
    page.goto("/")
    page.evaluate(f"document.cookie = 'django_language={lang}; path=/'")
    page.goto("/")
    seconds = [1, 45, 85, 200, 7200, 9000]
    # when the page's format.js writes durations
    written = page.evaluate(
        """async (seconds) => {
            const { durationText } = await import("/static/js/format.js");
            return seconds.map(durationText);
        }""",
        seconds,
    )
    # then they read as the server's `duration` filter renders them
    with translation.override(lang):
        assert written == [duration(s) for s in seconds]
