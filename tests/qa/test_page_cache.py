"""The shared cache of question pages for anonymous visitors (config/page_cache.py): against a
real uvicorn process and the real Redis, and the middleware alone for the races."""

from __future__ import annotations

import httpx
import pytest

from config import page_cache
from qa import services, view_counts
from qa.models import Answer
from tests.factories import StaffFactory
from tests.qa.factories import AnswerFactory

pytestmark = pytest.mark.django_db(transaction=True)

BROWSER = {"User-Agent": "Mozilla/5.0 (X11; Linux x86_64) Chrome/156.0"}


@pytest.fixture
def question_page(web_processes):
    answer = AnswerFactory(body="逾期利息可以协商减免,但本金必须偿还,这是第一条回答。")
    server = web_processes()
    with httpx.Client(base_url=server.http_url, headers=BROWSER, timeout=10) as client:
        yield client, answer.question, f"/questions/{answer.question_id}/"


def test_anonymous_visitors_share_one_rendering_and_each_view_counts(question_page):
    client, question, path = question_page
    first, second, third = (client.get(path) for _ in range(3))
    assert [r.headers["X-Cache"] for r in (first, second, third)] == ["MISS", "HIT", "HIT"]
    assert first.text == second.text == third.text
    assert "第一条回答" in third.text
    assert "csrfmiddlewaretoken" not in first.text
    assert page_cache.MARK_HEADER not in second.headers
    assert "set-cookie" not in second.headers
    assert view_counts.views_pending(question.pk) == 3


def test_crawlers_are_served_from_the_cache_without_counting(question_page):
    client, question, path = question_page
    client.get(path)
    hit = client.get(path, headers={"User-Agent": "Googlebot/2.1"})
    assert hit.headers["X-Cache"] == "HIT"
    assert view_counts.views_pending(question.pk) == 1


@pytest.mark.parametrize(
    "headers",
    [
        {"Cookie": "sessionid=abc"},
        {"Cookie": "messages=abc"},
        {"Authorization": "Bearer abc"},
    ],
    ids=["session", "flash-message", "token"],
)
def test_visitors_with_a_session_are_never_served_a_shared_copy(question_page, headers):
    client, _, path = question_page
    client.get(path)  # stored for anonymous visitors
    for _ in range(2):
        response = client.get(path, headers=headers)
        assert "X-Cache" not in response.headers


def test_each_language_has_its_own_copy(question_page):
    client, _, path = question_page
    chinese = client.get(path)
    english = client.get(path, headers={"Cookie": "django_language=en"})
    assert english.headers["X-Cache"] == "MISS"
    assert english.headers["Content-Language"] == "en"
    assert client.get(path, headers={"Cookie": "django_language=en"}).text == english.text
    assert client.get(path, headers={"Accept-Language": "en-GB,en;q=0.8"}).text == english.text
    assert client.get(path).text == chinese.text
    assert english.text != chinese.text


def test_a_query_string_bypasses_the_cache(question_page):
    client, _, path = question_page
    client.get(path)
    assert "X-Cache" not in client.get(path, params={"utm": "x"}).headers


def test_a_newly_approved_answer_shows_at_once(question_page):
    client, question, path = question_page
    client.get(path)
    assert client.get(path).headers["X-Cache"] == "HIT"
    pending = AnswerFactory(
        question=question,
        status=Answer.Status.PENDING,
        approvals=0,
        published_at=None,
        body="第二条回答:可以向法院申请诉前调解。",
    )
    services.answer_review(staff=StaffFactory(), answer_id=pending.pk, approve=True)
    fresh = client.get(path)
    assert fresh.headers["X-Cache"] == "MISS"
    assert "第二条回答" in fresh.text


def test_an_approved_edit_replaces_the_cached_answer_at_once(question_page):
    # given a cached question page
    client, question, path = question_page
    answer = question.answers.get()
    client.get(path)
    # when the answer's lawyer edits it: the edit waits, and readers keep the cached page
    services.answer_edit(
        lawyer=answer.lawyer, answer_id=answer.pk, body="修改后的回答:本金和利息都可以协商分期。"
    )
    waiting = client.get(path)
    assert waiting.headers["X-Cache"] == "HIT" and "第一条回答" in waiting.text
    # when staff approve the edit
    services.answer_review(staff=StaffFactory(), answer_id=answer.pk, approve=True, expected=1)
    # then the next reader gets the page fresh, with the new text marked edited
    fresh = client.get(path)
    assert fresh.headers["X-Cache"] == "MISS"
    assert "修改后的回答" in fresh.text and "第一条回答" not in fresh.text
    assert "已编辑" in fresh.text
    assert client.get(path).headers["X-Cache"] == "HIT"


def test_a_rejected_edit_leaves_the_cached_page_as_it_was(question_page):
    client, question, path = question_page
    answer = question.answers.get()
    client.get(path)
    services.answer_edit(
        lawyer=answer.lawyer, answer_id=answer.pk, body="修改后的回答:本金和利息都可以协商分期。"
    )
    services.answer_review(staff=StaffFactory(), answer_id=answer.pk, approve=False, reason="否")
    kept = client.get(path)
    assert kept.headers["X-Cache"] == "HIT" and "第一条回答" in kept.text


def test_an_upheld_report_hides_the_cached_question(question_page):
    from qa.models import Report, TargetType

    client, question, path = question_page
    client.get(path)
    report = Report.objects.create(
        reporter=StaffFactory(),
        target_type=TargetType.QUESTION,
        target_id=question.pk,
        reason="spam",
    )
    services.report_decide(staff=StaffFactory(), report_id=report.pk, upheld=True)
    assert client.get(path).status_code == 404


# --- the middleware alone --------------------------------------------------------------------
def _scope(path: str, headers: list[tuple[bytes, bytes]] | None = None, query: bytes = b""):
    return {
        "type": "http",
        "method": "GET",
        "path": path,
        "query_string": query,
        "headers": headers or [],
    }


class FakePage:
    """An HTTP app that renders a marked page and can run something between its start and
    its body, the way a render overlaps a write."""

    def __init__(self, *, extra_headers=(), between=None):
        self.renders = 0
        self.extra_headers = list(extra_headers)
        self.between = between

    async def __call__(self, scope, receive, send):
        self.renders += 1
        headers = [(b"content-type", b"text/html"), (page_cache.MARK_HEADER.encode(), b"1")]
        await send(
            {
                "type": "http.response.start",
                "status": 200,
                "headers": headers + self.extra_headers,
            }
        )
        if self.between is not None:
            self.between()
        await send({"type": "http.response.body", "body": f"render {self.renders}".encode()})


async def _get(app, scope):
    sent = []

    async def send(message):
        sent.append(message)

    async def receive():
        return {"type": "http.request", "body": b""}

    await app(scope, receive, send)
    headers = dict(sent[0]["headers"])
    return headers.get(b"x-cache"), b"".join(m.get("body", b"") for m in sent[1:])


@pytest.fixture
def fake_route(settings):
    settings.QA_PAGE_CACHE_SECONDS = 60
    return "/questions/987654/"


async def test_a_rendering_that_overlaps_a_write_is_not_stored(fake_route):
    page = FakePage(between=lambda: page_cache.forget([fake_route]))
    app = page_cache.PageCacheMiddleware(page)
    assert await _get(app, _scope(fake_route)) == (b"MISS", b"render 1")
    page.between = None
    assert await _get(app, _scope(fake_route)) == (b"MISS", b"render 2")
    assert await _get(app, _scope(fake_route)) == (b"HIT", b"render 2")


async def test_a_response_that_sets_a_cookie_is_not_stored(fake_route):
    page = FakePage(extra_headers=[(b"set-cookie", b"csrftoken=abc")])
    app = page_cache.PageCacheMiddleware(page)
    await _get(app, _scope(fake_route))
    await _get(app, _scope(fake_route))
    assert page.renders == 2


async def test_switched_off_by_its_setting(fake_route, settings):
    settings.QA_PAGE_CACHE_SECONDS = 0
    page = FakePage()
    app = page_cache.PageCacheMiddleware(page)
    assert await _get(app, _scope(fake_route)) == (None, b"render 1")
    assert await _get(app, _scope(fake_route)) == (None, b"render 2")


async def test_unregistered_paths_pass_straight_through(settings):
    page = FakePage()
    app = page_cache.PageCacheMiddleware(page)
    assert await _get(app, _scope("/questions/")) == (None, b"render 1")


async def test_with_redis_unreachable_pages_are_rendered(fake_route, monkeypatch):
    import redis

    class Broken:
        async def evalsha(self, *args):
            raise redis.ConnectionError("down")

    monkeypatch.setattr(page_cache, "get_async_redis", lambda: Broken())
    page = FakePage()
    app = page_cache.PageCacheMiddleware(page)
    assert await _get(app, _scope(fake_route)) == (None, b"render 1")
