"""A forgotten password in a real browser: from the sign-in page's link to the mail (sent by
a real worker) and the new password, then the used link refused; on a desktop and a phone."""

from __future__ import annotations

import re
import time
from urllib.parse import urlsplit

import pytest
from django.contrib.auth import authenticate
from django.core import mail
from playwright.sync_api import expect

from tests.e2e.conftest import screenshot, sign_in
from tests.factories import AskerFactory

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]

PHONE_VIEW = {"width": 390, "height": 844}
NEW_PASSWORD = "Lawline-reset-2026"
LINK_RE = re.compile(r"https?://\S+/accounts/password/reset/[^/\s]+/[^/\s]+/")


def reset_link_path() -> str:
    deadline = time.monotonic() + 15
    while not mail.outbox:
        assert time.monotonic() < deadline, "no reset mail within 15 s"
        time.sleep(0.1)
    found = LINK_RE.search(mail.outbox[0].body)
    assert found, mail.outbox[0].body
    return urlsplit(found[0]).path


@pytest.mark.parametrize("viewport", [None, PHONE_VIEW], ids=["desktop", "phone"])
def test_a_member_who_forgot_the_password_sets_a_new_one_by_mail(
    new_context, web_server, celery_test_worker, viewport
):
    # given a member with an e-mail on file, in Chinese
    name = "phone" if viewport else "desktop"
    member = AskerFactory(email="zhang.wei@example.cn")
    page = new_context(viewport=viewport).new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    # when they follow "Forgot your password?" and give their address
    page.goto("/accounts/login/")
    page.get_by_role("link", name="忘记密码？").click()
    page.wait_for_url("**/accounts/password/reset/")
    page.get_by_label("用户名或电子邮箱").fill("zhang.wei@example.cn")
    screenshot(page, f"reset-ask-{name}")
    page.get_by_role("button", name="发送链接").click()
    # then the page gives the answer everyone gets, and a mail arrives
    page.wait_for_url("**/accounts/password/reset/sent/")
    expect(page.locator("h1")).to_have_text("请查收电子邮件")
    screenshot(page, f"reset-sent-{name}")
    link = reset_link_path()
    # when they open the link and set a new password
    page.goto(link)
    page.wait_for_url("**/set-password/")
    assert link.split("/")[-2] not in page.url  # the token left the address bar
    page.get_by_label("新密码", exact=True).fill(NEW_PASSWORD)
    page.get_by_label("再次输入新密码").fill(NEW_PASSWORD)
    screenshot(page, f"reset-set-{name}")
    page.get_by_role("button", name="设置密码").click()
    # then they are asked to sign in, and the new password signs them in
    page.wait_for_url("**/accounts/login/")
    expect(page.get_by_role("status")).to_contain_text("新密码已设置")
    screenshot(page, f"reset-done-{name}")
    sign_in(page, member.username, NEW_PASSWORD)
    expect(page.locator(".whoami")).to_be_visible()
    assert authenticate(username=member.username, password=NEW_PASSWORD) is not None
    # and the link, used, says so with a way to ask again
    page.goto(link)
    expect(page.locator("h1")).to_have_text("链接已失效")
    expect(page.get_by_role("link", name="申请新链接")).to_be_visible()
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    screenshot(page, f"reset-used-{name}")
    assert errors == []
