"""The API's documentation page (Swagger UI at /api/v1/docs) in a real browser, under the site's
Content-Security-Policy and with no network beyond our own server."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import screenshot

# serialized_rollback: the regions and categories loaded by migrations survive the flush
pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]


def test_api_docs_list_the_operations_from_our_own_static_files(new_context, live_server_url):
    # given a visitor whose browser reaches only our server, noting script errors and CSP
    # violations
    page = new_context().new_page()
    page.route("**/*", lambda route: _only_our_server(route, live_server_url))
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
    page.goto("/")
    # when they follow the footer's API link
    page.locator('footer a[href="/api/v1/docs"]').click()
    # then Swagger UI lists the operations, with nothing blocked on the way
    expect(page).to_have_url(f"{live_server_url}/api/v1/docs")
    expect(page.locator(".opblock").first).to_be_visible()
    expect(page.locator(".opblock-summary-path", has_text="/api/v1/regions")).to_be_visible()
    assert page.locator(".opblock").count() > 10
    screenshot(page, "api-docs")
    assert errors == []


def _only_our_server(route, live_server_url: str) -> None:
    if route.request.url.startswith(live_server_url):
        route.continue_()
    else:
        route.abort()
