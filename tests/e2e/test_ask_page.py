"""marketplace/static/marketplace/ask.js in a real browser: the count of lawyers who could take
the consultation follows what the asker chooses, and nothing below it moves when it changes."""

from __future__ import annotations

import asyncio
import re
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


PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 900}
SETTLED = re.compile(r"^(idle|count|none|error)$")
ZH = {"count": "：1 位", "none": "本市暂时没有律师", "error": "暂时无法统计"}
EN = {"count": ": 1", "none": "No lawyer in this city", "error": "could not be"}


def place(locator) -> dict[str, float]:
    """Where an element sits on the page (not in the viewport: selecting may scroll)."""
    return locator.evaluate(
        """el => { const r = el.getBoundingClientRect();
                   return {x: r.left + scrollX, y: r.top + scrollY, w: r.width, h: r.height}; }"""
    )


@pytest.mark.parametrize(
    ("viewport", "locale", "texts"),
    [
        (DESKTOP, "zh-CN", ZH),
        (PHONE, "zh-CN", ZH),
        (PHONE, "en-US", EN),
    ],
    ids=["desktop-zh", "phone-zh", "phone-en"],
)
def test_the_radios_stay_put_while_the_count_changes(
    new_context, web_server, asker, viewport, locale, texts
):
    # given one free debt lawyer online in Jinan, and nobody in Qingdao
    online_lawyer(price=0)
    page = new_context(viewport=viewport, locale=locale).new_page()
    page.goto("/")
    language = "en" if locale == "en-US" else "zh-hans"
    page.evaluate(f"document.cookie = 'django_language={language}; path=/'")
    sign_in(page, asker.username, TEST_PASSWORD)
    # and the count's answers held back, or failed, at will
    held, failing = [], []

    def answer(route):
        if failing:
            route.fulfill(status=503, json={"code": "unavailable"})
        else:
            held.append(route)

    page.route(re.compile(r"/api/v1/lawyers/(available|online)"), answer)
    page.goto("/ask/")
    line = page.locator("#online-here")
    radios = page.locator("#ask-form fieldset")
    expect(line).to_have_attribute("data-state", "idle")
    expect(line).not_to_be_empty()
    before = place(radios)

    def release() -> None:
        while held:
            held.pop().continue_()

    # when the asker picks a practice area and Qingdao, and the count is slow to come
    page.locator("[name=category]").select_option("debt")
    page.locator("[name=city]").select_option("370200")
    # then the line says it is counting, and the radios have not moved
    expect(line).to_have_attribute("data-state", "loading")
    expect(line).to_contain_text("…")
    assert place(radios) == before
    # when nobody there can take it: the long "it waits and widens" text, radios unmoved
    release()
    expect(line).to_have_attribute("data-state", "none")
    expect(line).to_contain_text(texts["none"])
    assert place(radios) == before
    screenshot(page, f"ask-online-none-{language}-{viewport['width']}")
    # when Jinan, where one lawyer can: a count
    page.locator("[name=city]").select_option("370100")
    expect(line).to_have_attribute("data-state", "loading")
    release()
    expect(line).to_have_attribute("data-state", "count")
    expect(line).to_contain_text(texts["count"])
    assert place(radios) == before
    # when the count cannot be had: it says so, and the form still stands still
    failing.append(True)
    page.locator("[name=city]").select_option("370300")
    expect(line).to_have_attribute("data-state", "error")
    expect(line).to_contain_text(texts["error"])
    assert place(radios) == before
    # and the radio under the pointer is the one that gets checked
    page.locator("input[name=mode][value=paid]").check()
    expect(page.locator("#price-field")).to_be_visible()
    expect(line).to_have_attribute("data-state", SETTLED)
    assert place(radios) == before


@pytest.mark.parametrize("width", [1280, 390], ids=["desktop", "phone"])
def test_the_fields_stand_evenly_spaced(new_context, web_server, asker, width):
    # given an asker on a desktop or a phone
    page = new_context(viewport={"width": width, "height": 900}).new_page()
    sign_in(page, asker.username, TEST_PASSWORD)
    # when they open the ask form
    page.goto("/ask/")
    fields = page.locator("#ask-form .field").filter(has=page.locator("input, textarea, select"))

    def gap(upper: int, lower: int) -> float:
        above, below = fields.nth(upper).bounding_box(), fields.nth(lower).bounding_box()
        assert above is not None and below is not None
        return below["y"] - (above["y"] + above["height"])

    # then the area stands as far below the description as the description below the title;
    # on a phone the city stands as far below the area (it had the grid's gap besides)
    assert abs(gap(1, 2) - gap(0, 1)) < 1
    if width < 760:
        assert abs(gap(2, 3) - gap(0, 1)) < 1
    screenshot(page, f"ask_fields_{width}")
