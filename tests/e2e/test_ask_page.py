"""marketplace/static/marketplace/ask.js in a real browser: the count of lawyers who could take
the consultation follows what the asker chooses."""

from __future__ import annotations

import asyncio
from concurrent.futures import ThreadPoolExecutor

import pytest
from playwright.sync_api import expect

from marketplace import presence
from tests.e2e.conftest import screenshot, sign_in
from tests.factories import TEST_PASSWORD, LawyerProfileFactory, category, city
from tests.marketplace.conftest import home_of

# serialized_rollback: the regions and categories loaded by migrations survive the flush
pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]


def online_lawyer(*, price: int, slug: str = "debt") -> None:
    jinan = city("370100")
    profile = LawyerProfileFactory(
        home_city=jinan, serves=[jinan], practises=[category(slug)], price=price
    )
    heartbeat = presence.heartbeat(profile.user_id, home=home_of(profile), status="online")
    with ThreadPoolExecutor(1) as other_thread:  # this one runs Playwright's event loop
        other_thread.submit(asyncio.run, heartbeat).result()


def test_the_count_follows_mode_practice_area_and_price(new_context, web_server, asker):
    # given in Jinan: one free debt lawyer, one debt lawyer at ¥49, one free labour lawyer
    online_lawyer(price=0)
    online_lawyer(price=4900)
    online_lawyer(price=0, slug="labour")
    page = new_context().new_page()
    sign_in(page, asker.username, TEST_PASSWORD)
    page.goto("/ask/")
    count = page.locator("#online-here")
    # when the asker picks Jinan: public posting counts every lawyer online there
    page.get_by_label("所在城市").select_option(label="济南")
    page.locator("input[name=mode][value=public]").check()
    expect(count).to_have_text("本市当前在线律师：3 位")
    # a free consultation on debts: only the free debt lawyer
    page.locator("input[name=mode][value=free]").check()
    page.get_by_label("法律领域").select_option("debt")
    expect(count).to_have_text("本市当前在线、接受免费咨询的律师：1 位")
    # paid at ¥30: the free lawyer still; at ¥49 the ¥49 lawyer too
    page.locator("input[name=mode][value=paid]").check()
    page.locator("#id_price").fill("30")
    expect(count).to_have_text("本市当前在线、接受此价格的律师：1 位")
    page.locator("#id_price").fill("49")
    expect(count).to_have_text("本市当前在线、接受此价格的律师：2 位")
    # a practice area nobody free practises in Jinan says what happens next
    page.locator("input[name=mode][value=free]").check()
    page.get_by_label("法律领域").select_option("traffic")
    expect(count).to_contain_text("本市暂时没有律师可以接单")
    screenshot(page, "ask-nobody-free")
