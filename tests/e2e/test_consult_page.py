"""static/js/consult.js in a real browser: what the consult room shows when views of the consult
(socket frames, API answers) arrive out of order, and what its rating form says."""

from __future__ import annotations

import re
import time

import pytest
from playwright.sync_api import expect

from accounts import realtime
from marketplace import services as marketplace_services
from marketplace import socket_frames
from marketplace.models import Consult
from messaging.models import Participant
from tests.e2e.conftest import sign_in
from tests.factories import TEST_PASSWORD, LawyerFactory, LawyerProfileFactory
from tests.pages.factories import ConsultFactory, offer_to, open_chat

# serialized_rollback: the regions and categories loaded by migrations survive the flush
pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]

# counts the page's answers from GET /api/v1/consults/{id}, one task after the page's script has
# had them (a setTimeout runs after the promise continuations that apply them)
COUNT_CONSULT_ANSWERS = """
(() => {
  const text = Response.prototype.text;
  window.__consultAnswers = 0;
  Response.prototype.text = async function () {
    const body = await text.call(this);
    if (/\\/api\\/v1\\/consults\\/\\d+$/.test(new URL(this.url).pathname)) {
      setTimeout(() => { window.__consultAnswers += 1; }, 0);
    }
    return body;
  };
})();
"""


def test_an_answer_fetched_before_the_match_does_not_take_the_room_back_to_waiting(
    new_context, web_server, asker, lawyer
):
    # given an asker waiting on an offered consult, whose room's on-connect GET of the consult
    # is answered (state "offered") but held back on its way to the page
    LawyerProfileFactory(user=lawyer)
    consult = ConsultFactory(question__asker=asker)
    offer = offer_to(consult, lawyer, seconds=300)
    context = new_context()
    context.add_init_script(COUNT_CONSULT_ANSWERS)
    page = context.new_page()
    sign_in(page, asker.username, TEST_PASSWORD)
    held = []

    def hold_the_first_get(route):
        if route.request.method == "GET" and not held:
            held.append((route, route.fetch()))
        else:
            route.continue_()

    page.route(f"**/api/v1/consults/{consult.pk}", hold_the_first_get)
    page.goto(f"/consults/{consult.pk}/")
    deadline = time.monotonic() + 15
    while not held and time.monotonic() < deadline:
        page.wait_for_timeout(50)
    assert held, "the room never asked for the consult on connect"
    room = page.locator("#consult")
    # when the lawyer accepts (consult.matched reaches the room) and only then the stale
    # answer arrives
    marketplace_services.offer_accept(offer_id=offer.pk, lawyer=lawyer)
    expect(room).to_have_attribute("data-state", "active")
    answers_before = page.evaluate("window.__consultAnswers")
    route, stale = held[0]
    route.fulfill(response=stale)
    # a function, not an expression: Playwright polls an expression with eval, which the
    # page's CSP forbids
    page.wait_for_function("(before) => window.__consultAnswers > before", arg=answers_before)
    # then the room stays on the chat
    expect(room).to_have_attribute("data-state", "active")
    expect(page.locator('[data-panel="waiting"]')).to_be_hidden()
    expect(page.locator('[data-panel="chat"]')).to_be_visible()


def searching_room(new_context, asker, lawyers, *, search_round: int):
    """The asker's room of a consult offered to `lawyers` in `search_round`, connected and
    settled: what the socket re-sends on connect and the room's own GET have arrived."""
    consult = ConsultFactory(question__asker=asker)
    for lawyer in lawyers:
        LawyerProfileFactory(user=lawyer)
        offer_to(consult, lawyer, seconds=300)
    Consult.objects.filter(pk=consult.pk).update(search_round=search_round)
    consult.refresh_from_db()
    context = new_context()
    context.add_init_script(COUNT_CONSULT_ANSWERS)
    page = context.new_page()
    sign_in(page, asker.username, TEST_PASSWORD)
    page.goto(f"/consults/{consult.pk}/")
    expect(page.locator("#consult")).to_have_attribute("data-state", "offered")
    expect(page.locator("[data-chat] [data-connection]")).to_have_attribute("data-state", "open")
    page.wait_for_function("() => window.__consultAnswers > 0")
    return consult, page


def late_frame(consult: Consult, *, state: str, search_round: int, offered: int) -> None:
    """A consult.updated frame as another process built it earlier, delivered only now."""
    then = Consult.objects.get(pk=consult.pk)
    then.state, then.search_round = state, search_round
    realtime.push_to_users([consult.asker_id], socket_frames.consult_updated(then, offered=offered))


def test_a_passs_late_offered_frame_does_not_reopen_a_cancelled_search(
    new_context, web_server, asker, lawyer
):
    # given an asker whose consult is offered, round 1
    consult, page = searching_room(new_context, asker, [lawyer], search_round=1)
    room = page.locator("#consult")
    # when the asker cancels, and only then the matching worker's push of its pass arrives
    marketplace_services.consult_close(user=asker, consult_id=consult.pk)
    expect(room).to_have_attribute("data-state", "canceled")
    late_frame(consult, state="offered", search_round=1, offered=1)
    page.wait_for_timeout(500)  # a frame crosses in a few ms
    # then the room stays cancelled
    expect(room).to_have_attribute("data-state", "canceled")
    expect(page.locator('[data-panel="waiting"]')).to_be_hidden()


def test_the_opening_queued_frame_landing_after_the_passs_offered_one_is_ignored(
    new_context, web_server, asker, lawyer
):
    # given the room shows the first pass's offers (round 1, two lawyers)
    consult, page = searching_room(new_context, asker, [lawyer, LawyerFactory()], search_round=1)
    expect(page.locator("[data-offered]")).to_have_text("2")
    # when the web's "queued" push of the opening (round 0) arrives after it
    late_frame(consult, state="queued", search_round=0, offered=0)
    page.wait_for_timeout(500)  # a frame crosses in a few ms
    expect(page.locator("[data-offered]")).to_have_text("2")
    expect(page.locator("#consult")).to_have_attribute("data-state", "offered")
    # and a requeue of round 1 (every offer gone) after that
    late_frame(consult, state="queued", search_round=1, offered=0)
    # then only the requeue moved the room
    expect(page.locator("#consult")).to_have_attribute("data-state", "queued")
    expect(page.locator("[data-offered]")).to_have_text("0")


def test_rating_without_a_star_asks_for_one_to_five_stars(new_context, web_server, asker, lawyer):
    # given the asker in the room of a consult that was closed
    LawyerProfileFactory(user=lawyer)
    consult = ConsultFactory(question__asker=asker)
    open_chat(consult, lawyer, messages=2)
    Consult.objects.filter(pk=consult.pk).update(state=Consult.State.RESOLVED)
    page = new_context().new_page()
    sign_in(page, asker.username, TEST_PASSWORD)
    page.goto(f"/consults/{consult.pk}/")
    rating = page.locator('[data-panel="rating"]')
    # when the rating is sent without a star
    rating.get_by_role("button", name="提交评价").click()
    # then the error says what to do, not the legend's text
    expect(rating.locator("[data-rating-error]")).to_have_text("请选择 1 到 5 颗星。")


def test_opening_the_room_marks_the_messages_waiting_there_read(
    new_context, web_server, asker, lawyer
):
    # given a chat whose last message, from the lawyer, the asker has not read
    LawyerProfileFactory(user=lawyer)
    consult = ConsultFactory(question__asker=asker)
    conversation = open_chat(consult, lawyer, messages=2)
    page = new_context().new_page()
    sign_in(page, asker.username, TEST_PASSWORD)
    # when the asker opens the room (no focus or visibility change after the load)
    page.goto(f"/consults/{consult.pk}/")
    expect(page.locator("[data-chat] [data-connection]")).to_have_attribute("data-state", "open")
    # then the lawyer's side learns it was read
    asker_cursor = Participant.objects.filter(conversation=conversation, user=asker)
    deadline = time.monotonic() + 5
    while asker_cursor.get().last_read_seq < 2 and time.monotonic() < deadline:
        time.sleep(0.05)
    assert asker_cursor.get().last_read_seq == 2


def test_a_form_sent_back_with_errors_puts_the_cursor_on_the_first_one(
    new_context, web_server, asker
):
    # given an asker on the ask form
    page = new_context().new_page()
    sign_in(page, asker.username, TEST_PASSWORD)
    page.goto("/ask/")
    # when they send it empty
    page.locator("#ask-form button[type=submit]").click()
    # then the page comes back with the cursor in the first field in error, the title
    expect(page.locator(".field.has-error").first).to_be_visible()
    expect(page.locator("#id_title")).to_be_focused()


def test_the_asker_can_call_off_a_request_no_lawyer_has_taken(new_context, web_server, asker):
    # given the asker on the waiting screen of a free consult nobody has taken yet
    consult = ConsultFactory(question__asker=asker, is_paid=False, price=0)
    page = new_context().new_page()
    sign_in(page, asker.username, TEST_PASSWORD)
    page.goto(f"/consults/{consult.pk}/")
    dialogs = []
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.accept()))
    # when they cancel it and confirm
    page.locator('[data-panel="waiting"]').get_by_role("button", name="取消咨询请求").click()
    # then the page says it is cancelled, and it is
    expect(page.locator('[data-panel="canceled"]')).to_be_visible()
    expect(page.locator('[data-panel="waiting"]')).to_be_hidden()
    assert dialogs == ["确定取消本次咨询请求吗？不会再推送给律师，也不会扣任何费用。"]
    consult.refresh_from_db()
    assert consult.state == Consult.State.CANCELED


def test_a_message_arriving_live_can_be_reported_and_the_report_returns_to_the_room(
    new_context, web_server, asker, lawyer
):
    # given the asker in an active consultation's room
    from messaging.services import message_send
    from qa.models import Report
    from tests.e2e.conftest import screenshot

    LawyerProfileFactory(user=lawyer)
    consult = ConsultFactory(question__asker=asker)
    conversation = open_chat(consult, lawyer, messages=1)
    page = new_context().new_page()
    sign_in(page, asker.username, TEST_PASSWORD)
    page.goto(f"/consults/{consult.pk}/")
    expect(page.locator("[data-chat] [data-connection]")).to_have_attribute("data-state", "open")
    # when the lawyer's message arrives on the socket and the asker points at it
    sent, _ = message_send(
        sender=lawyer, conversation_id=conversation.pk, client_id="e2e-1", body="先私下转账给我"
    )
    arrived = page.locator(f'.msg.theirs[data-seq="{sent.seq}"]')
    expect(arrived).to_contain_text("先私下转账给我")
    arrived.hover()
    report = arrived.locator(".msg-report")
    expect(report).to_be_visible()
    screenshot(page, "consult-report-message")
    report.click()
    # then the form quotes the message; sending it lands back in the room with thanks
    expect(page.locator(".reported-message")).to_have_text("先私下转账给我")
    page.locator("input[name=reason][value=fraud]").check()
    screenshot(page, "report-message-form")
    page.locator("form button.primary[type=submit]").click()
    page.wait_for_url(f"**/consults/{consult.pk}/")
    expect(page.locator(".flash")).to_contain_text("感谢您的举报")
    assert Report.objects.get().target_id == sent.pk


def test_a_double_click_on_pay_sends_the_form_once(new_context, web_server, asker):
    # given the asker on the sandbox pay page of a paid consultation
    from tests.billing.factories import paid_consult

    _, payment = paid_consult(asker=asker)
    page = new_context().new_page()
    sign_in(page, asker.username, TEST_PASSWORD)
    page.goto(f"/billing/pay/{payment.pk}/")
    posts: list[str] = []
    page.on("request", lambda r: posts.append(r.url) if r.method == "POST" else None)
    # when the pay button is clicked twice before the next page arrives
    page.evaluate(
        """() => {
          const button = document.querySelector("form[method=post] button.cta");
          button.click();
          setTimeout(() => button.click(), 10);
        }"""
    )
    page.wait_for_url(re.compile(r"/consults/\d+/"))
    # then one POST went out and the room says "authorised" once
    assert len(posts) == 1, posts
    expect(page.locator(".flash li")).to_have_count(1)
