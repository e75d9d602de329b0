"""The account page in a real browser: reached from the header, a wrong phone number told
beside its field, the profile saved, a token revoked; on a desktop and on a phone. A new e-mail
address waiting for confirmation, its link sent again, and confirmed from the mail."""

from __future__ import annotations

import re
import time

import pytest
from django.core import mail
from playwright.sync_api import expect

from accounts.models import ApiToken
from accounts.services import token_issue
from tests.e2e.conftest import screenshot, sign_in
from tests.factories import TEST_PASSWORD, AskerFactory

# serialized_rollback: the regions and categories loaded by migrations survive the flush
pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]

PHONE_VIEW = {"width": 390, "height": 844}


@pytest.mark.parametrize("viewport", [None, PHONE_VIEW], ids=["desktop", "phone"])
def test_a_user_edits_their_profile_and_revokes_a_token_from_the_header_link(
    new_context, web_server, asker, viewport
):
    # given an asker with an API token, in Chinese
    name = "phone" if viewport else "desktop"
    token, _raw = token_issue(user=asker, name="我的笔记本")
    page = new_context(viewport=viewport).new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    sign_in(page, asker.username, TEST_PASSWORD)
    # when they follow the header's link
    page.get_by_role("link", name="我的账号").click()
    page.wait_for_url("**/account/")
    expect(page.locator("h1")).to_have_text("我的账号")
    expect(page.locator(f"[data-token='{token.pk}']")).to_contain_text("我的笔记本")
    screenshot(page, f"account-{name}")
    # and type a number that is not a mobile number
    page.get_by_label("姓", exact=True).fill("王")
    page.get_by_label("名", exact=True).fill("小明")
    page.get_by_label("手机号（选填）").fill("12345")
    page.get_by_role("button", name="保存资料").click()
    # then the page says so beside the field and keeps what they typed
    expect(page.locator("#profile .field-error")).to_contain_text("请输入中国大陆手机号")
    expect(page.get_by_label("名", exact=True)).to_have_value("小明")
    screenshot(page, f"account-phone-error-{name}")
    # when they correct it
    page.get_by_label("手机号（选填）").fill("139 1234 5678")
    page.get_by_role("button", name="保存资料").click()
    # then it is saved
    expect(page.get_by_role("status")).to_contain_text("您的资料已保存")
    expect(page.get_by_label("手机号（选填）")).to_have_value("13912345678")
    expect(page.locator(".whoami")).to_be_visible()
    # when they revoke the token
    page.get_by_role("button", name=f"撤销令牌 ll_{token.prefix}").click()
    # then it is gone from the list and no longer signs in
    expect(page.get_by_role("status")).to_contain_text("令牌已撤销")
    expect(page.locator("#tokens .empty")).to_be_visible()
    assert ApiToken.objects.get(pk=token.pk).revoked_at is not None
    # and nothing overflows a phone's width
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    screenshot(page, f"account-saved-{name}")
    asker.refresh_from_db()
    assert (asker.display_name, asker.phone) == ("王小明", "13912345678")
    assert errors == []


def test_a_user_sets_a_new_e_mail_sends_the_link_again_and_confirms_it(
    new_context, web_server, celery_test_worker
):
    # given a member with a confirmed address, in Chinese
    member = AskerFactory(email="li.ming@example.cn")
    page = new_context().new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    sign_in(page, member.username, TEST_PASSWORD)
    page.goto("/account/")
    expect(page.locator("#email-confirmed")).to_contain_text("li.ming@example.cn")
    # when they type a new address and their password
    page.get_by_label("电子邮箱（用于重置密码）").fill("li.ming@work.cn")
    page.locator("#id_email-password").fill(TEST_PASSWORD)
    page.get_by_role("button", name="保存电子邮箱").click()
    # then the page says it waits for confirmation, and the old address still counts
    expect(page.get_by_role("status")).to_contain_text("我们已向新邮箱发送确认链接")
    expect(page.locator("#email-pending")).to_contain_text("等待确认")
    expect(page.locator("#email-pending")).to_contain_text("li.ming@work.cn")
    expect(page.locator("#email-confirmed")).to_contain_text("li.ming@example.cn")
    screenshot(page, "account-email-pending")
    # when they ask for the link again
    page.get_by_role("button", name="重新发送链接").click()
    expect(page.get_by_role("status")).to_contain_text("确认链接已重新发送")
    # then two mails arrive at the new address; either link works
    link = confirm_link_path(count=2)
    assert {tuple(m.to) for m in mail.outbox} == {("li.ming@work.cn",)}
    # when they open one and press the button
    page.goto(link)
    expect(page.locator("h1")).to_have_text("确认电子邮箱")
    expect(page.locator("#email-confirm")).to_contain_text("li.ming@work.cn")
    screenshot(page, "email-confirm-page")
    page.get_by_role("button", name="确认此邮箱").click()
    # then the account page shows the new address as confirmed
    page.wait_for_url("**/account/")
    expect(page.get_by_role("status")).to_contain_text("电子邮箱已确认")
    expect(page.locator("#email-confirmed")).to_contain_text("li.ming@work.cn")
    expect(page.locator("#email-pending")).to_have_count(0)
    screenshot(page, "account-email-confirmed")
    member.refresh_from_db()
    assert (member.email, member.email_pending) == ("li.ming@work.cn", "")
    assert errors == []


def confirm_link_path(count: int) -> str:
    deadline = time.monotonic() + 15
    while len(mail.outbox) < count:
        assert time.monotonic() < deadline, f"{len(mail.outbox)} confirmation mails in 15 s"
        time.sleep(0.1)
    found = re.search(r"https?://\S+(/accounts/email/confirm/[^/\s]+/)", mail.outbox[0].body)
    assert found, mail.outbox[0].body
    return found[1]
