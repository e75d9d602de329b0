"""Every main page in zh-hans and en, in a real browser: no script error, no CSP violation, and a
screenshot in .screenshots/ (git-ignored) to look at."""

from __future__ import annotations

import pytest
from django.urls import NoReverseMatch, reverse

from marketplace.models import Consult
from tests.e2e.conftest import open_page
from tests.factories import LawyerProfileFactory, StaffFactory, city
from tests.pages.factories import ConsultFactory, offer_to, open_chat

# serialized_rollback: the regions and categories loaded by migrations survive the flush
pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]

LANGUAGES = ("zh-hans", "en")
PHONE_VIEW = {"width": 390, "height": 844}


@pytest.fixture
def world(asker, lawyer):
    """An asker with a consult in each state, a verified lawyer with an offer and open chats,
    and other people's consults for the ticker."""
    asker.phone = "16212343566"
    asker.first_name, asker.last_name = "小明", "王"
    asker.save()
    lawyer.first_name, lawyer.last_name = "建国", "李"
    lawyer.save()
    LawyerProfileFactory(user=lawyer, firm="济宁明理律师事务所", price=4900)
    LawyerProfileFactory(verification="pending", license_number="13708201510000001")
    for _ in range(4):
        ConsultFactory()
    waiting = ConsultFactory(
        question__asker=asker, question__title="工伤认定后单位拒绝赔偿怎么办？"
    )
    active = ConsultFactory(
        question__asker=asker, question__title="信用卡逾期三个月，银行说要起诉我"
    )
    conversation = open_chat(active, lawyer, messages=0)
    from messaging.models import Message

    lines = [
        (asker, "律师您好，我欠了招商银行三万块，已经逾期三个月了，银行说要起诉我。"),
        (lawyer, "您好，我是李律师。先别着急，请问您有没有收到法院的传票或者律师函？"),
        (asker, "只收到了短信和电话，说再不还就起诉。"),
        (
            lawyer,
            "明白。这种情况可以先和银行协商分期还款，依据《商业银行信用卡业务监督管理办法》第七十条，银行可以与您协商个性化分期。",
        ),
    ]
    for seq, (sender, body) in enumerate(lines, start=1):
        Message.objects.create(
            conversation=conversation, seq=seq, sender=sender, body=body, client_id=f"shot-{seq}"
        )
    conversation.last_seq = len(lines)
    conversation.save(update_fields=["last_seq"])
    resolved = ConsultFactory(question__asker=asker, question__title="离婚后孩子抚养费标准是多少？")
    open_chat(resolved, lawyer, messages=2)
    resolved.state = Consult.State.RESOLVED
    resolved.save(update_fields=["state"])
    offer_to(ConsultFactory(question__title="交通事故对方全责但拒不赔偿"), lawyer, seconds=300)
    for _ in range(2):
        open_chat(ConsultFactory(), lawyer, messages=3)
    return {"waiting": waiting, "active": active, "resolved": resolved}


@pytest.mark.parametrize("lang", LANGUAGES)
def test_every_main_page_renders_without_script_errors(new_context, world, asker, lawyer, lang):
    staff = StaffFactory()
    pages = [
        (None, "/", "home"),
        (None, "/accounts/login/", "login"),
        (asker, "/consults/", "my-consults"),
        (asker, "/account/", "account"),
        (asker, f"/consults/{world['waiting'].pk}/", "consult-waiting"),
        (asker, f"/consults/{world['active'].pk}/", "consult-chat"),
        (asker, f"/consults/{world['resolved'].pk}/", "consult-rate"),
        (lawyer, "/workbench/", "workbench"),
        (lawyer, f"/consults/{world['active'].pk}/", "consult-lawyer"),
        (staff, "/dashboard/", "dashboard"),
        (None, "/status/", "status"),
    ]
    # the other engineers' pages, where they exist, so the whole product is looked at
    for user, url_name, args, name in [
        (asker, "ask", [], "ask"),
        (None, "qa:question_list", [], "questions"),
        (None, "qa:question", [world["active"].question_id], "question"),
        (None, "qa:lawyer_list", [], "lawyers"),
        (None, "qa:lawyer", [lawyer.pk], "lawyer"),
        (staff, "qa:moderation", [], "moderation"),
    ]:
        try:
            pages.append((user, reverse(url_name, args=args), name))
        except NoReverseMatch:
            pass
    problems = {}
    for user, path, name in pages:
        _page, errors = open_page(new_context, user, lang, path, f"{lang}-{name}")
        if errors:
            problems[name] = errors
    for user, path, name in [
        (None, "/", "home"),
        (asker, f"/consults/{world['active'].pk}/", "consult-chat"),
    ]:
        _page, errors = open_page(
            new_context, user, lang, path, f"{lang}-{name}-phone", viewport=PHONE_VIEW
        )
        if errors:
            problems[f"{name}-phone"] = errors
    assert problems == {}


@pytest.mark.parametrize("viewport", [PHONE_VIEW, None], ids=["phone", "desktop"])
def test_workbench_keeps_chats_near_the_top_on_a_phone(new_context, world, lawyer, viewport):
    # given the lawyer's workbench with an offer and open chats
    name = "workbench-phone" if viewport else "workbench-desktop"
    page, errors = open_page(new_context, lawyer, "en", "/workbench/", name, viewport=viewport)
    # when
    offers, chats, figures = (
        page.locator(selector).bounding_box()
        for selector in ("#queue-title", "[data-chats]", "#figures-title")
    )
    # then: a phone reads offers, chats, figures; a wide screen puts the chats beside both
    assert offers and chats and figures
    if viewport:
        assert offers["y"] < chats["y"] < figures["y"]
    else:
        assert chats["x"] > offers["x"] == figures["x"]
        assert offers["y"] < figures["y"] < chats["y"] + chats["height"]
    assert errors == []


def test_home_page_fits_a_phone_in_english_with_long_city_names(new_context, asker):
    # given ticker rows from cities whose English names are long (Mianyang, Shaoguan)
    asker.phone = "17812348115"
    asker.save()
    for code in ("510700", "440200", "371000"):
        ConsultFactory(question__asker=asker, question__city=city(code))
    # when an English-speaking visitor opens the home page on a phone
    page, errors = open_page(
        new_context, None, "en", "/", "en-home-long-cities-phone", viewport=PHONE_VIEW
    )
    # then nothing is wider than the screen and no city name runs into its phone number
    assert errors == []
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE_VIEW["width"]
    overlaps = page.eval_on_selector_all(
        "#ticker li",
        """rows => rows.filter(row => {
            const city = row.querySelector('.city'), phone = row.querySelector('.phone');
            if (!city || !phone) return false;
            const a = city.getBoundingClientRect(), b = phone.getBoundingClientRect();
            return a.top === b.top && a.left + city.scrollWidth > b.left;
        }).map(row => row.innerText)""",
    )
    assert overlaps == []
    # and the card after the ticker's row of cards does not touch it
    gap = page.evaluate(
        """() => { const grid = document.querySelector('main .grid-2');
        return grid.nextElementSibling.getBoundingClientRect().top - grid.getBoundingClientRect().bottom; }"""
    )
    assert gap >= 8


def test_consult_panels_and_page_titles_keep_the_page_gap(new_context, world, asker):
    # given the asker's finished consult (chat, then the rating card) and their consult list
    gap_js = """([upper, lower]) => document.querySelector(lower).getBoundingClientRect().top
        - document.querySelector(upper).getBoundingClientRect().bottom"""
    page, _errors = open_page(
        new_context,
        asker,
        "en",
        f"/consults/{world['resolved'].pk}/",
        "en-consult-rate-phone",
        viewport=PHONE_VIEW,
    )
    # then the chat does not touch the rating card below it
    assert page.evaluate(gap_js, ["[data-panel=chat]", "[data-panel=rating]"]) >= 8
    # and on the list, the "ask a new question" button (under the title on a phone) does not
    # touch the first card
    page, _errors = open_page(
        new_context, asker, "en", "/consults/", "en-my-consults-phone", viewport=PHONE_VIEW
    )
    assert page.evaluate(gap_js, ["main .row.spread", "main .card"]) >= 8
