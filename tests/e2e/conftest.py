"""Browser tests: Python Playwright driving Debian's chromium (never a browser download)
against real uvicorn processes on the test database, with a real Celery worker for matching.

In CI (CI=true) a missing chromium or Playwright fails the tests; locally they skip with the
reason."""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from django.conf import settings

from tests.factories import TEST_PASSWORD

CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
    "--disable-dev-shm-usage",
]
SCREENSHOTS = Path(settings.BASE_DIR) / ".screenshots"
# one action or assertion waits at most this long (matching and sockets answer in milliseconds;
# the margin is for a loaded CI machine)
TIMEOUT_MS = 15000


def _unavailable(reason: str) -> None:
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(f"browser tests cannot run in CI: {reason}")
    pytest.skip(reason)


@pytest.fixture
def chromium(transactional_db, monkeypatch):
    """A chromium for one test. Playwright's sync API keeps an event loop marked running in
    this thread, which trips Django's async-safety check on every ORM call the test makes
    (factories, assertions): the check is lifted for browser tests only, for their duration."""
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    if not os.path.exists(CHROMIUM):
        _unavailable(f"{CHROMIUM} is missing (apt-get install chromium)")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        _unavailable("the playwright package is not installed")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture(scope="session")
def collected_static() -> None:
    """The web processes serve static files as production does (WhiteNoise from STATIC_ROOT),
    so the current ones are collected first (clearing stale compressed copies)."""
    from django.core.management import call_command

    call_command("collectstatic", interactive=False, verbosity=0, clear=True)


# the servers under test keep Django's async-safety check, whatever the test process lifted
SERVER_ENV = {"DJANGO_ALLOW_ASYNC_UNSAFE": ""}


@pytest.fixture
def web_server(collected_static, web_processes):
    """One real web process (pages, API and sockets) on the test database."""
    return web_processes(**SERVER_ENV)


@pytest.fixture
def live_server_url(web_server) -> str:
    return web_server.http_url


@pytest.fixture
def new_context(chromium, live_server_url) -> Iterator[Callable[..., object]]:
    """`new_context(locale="zh-CN", viewport=..., timezone_id=...)` → a fresh browser context
    (its own cookies) whose pages know the server's base URL. All are closed after the test."""
    contexts = []

    def make(
        *, viewport: dict | None = None, locale: str = "zh-CN", timezone_id: str | None = None
    ):
        context = chromium.new_context(
            base_url=live_server_url,
            locale=locale,
            timezone_id=timezone_id,
            viewport=viewport or {"width": 1280, "height": 900},
        )
        context.set_default_timeout(TIMEOUT_MS)
        contexts.append(context)
        return context

    yield make
    for context in contexts:
        context.close()


def sign_in(page, username: str, password: str) -> None:
    page.goto("/accounts/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", password)
    page.locator("main form button[type=submit]").click()
    page.wait_for_url(re.compile(r"^(?!.*/accounts/login/).*$"))


def open_page(new_context, user, lang: str, path: str, shot: str, *, viewport=None):
    """Open `path` in a fresh context as `user` (None: anonymous) in `lang` ("zh-hans" or
    "en"); check it answers 200 in that language and save the screenshot `shot`. Returns the
    page and the script errors and CSP violations (console errors) seen on the way."""
    context = new_context(viewport=viewport, locale="en-US" if lang == "en" else "zh-CN")
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
    page.goto("/")
    page.evaluate(f"document.cookie = 'django_language={lang}; path=/'")
    if user is not None:
        sign_in(page, user.username, TEST_PASSWORD)
    response = page.goto(path)
    assert response is not None and response.status == 200, (shot, response and response.status)
    page.wait_for_load_state("networkidle")
    assert page.locator("html").get_attribute("lang") == lang
    screenshot(page, shot)
    return page, errors


def switch_language(page, code: str) -> None:
    """Use the language switcher in the header, as a person would."""
    with page.expect_navigation():
        page.select_option("#lang-select", code)


def screenshot(page, name: str) -> Path:
    SCREENSHOTS.mkdir(exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path
