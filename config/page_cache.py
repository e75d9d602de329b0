"""A shared cache of whole public pages for anonymous visitors, served on the event loop.

A page that reads the same for every anonymous visitor (no session, no flash message, no
CSRF token, no cookie set) is marked by its view with `mark_shareable`; the ASGI middleware
then keeps the complete response (status, headers, body) in Redis for the route's lifetime
setting and answers the next anonymous visitor in that language from there, without a thread
hop, a template or a query: what a reverse proxy would do, inside the web process.

Writes that change such a page call `forget(path)`: it deletes the page and bumps the path's
generation, so a rendering that started before the write is not stored after it. A hit can
add one to a counter of the route's (the question page counts its view). Redis trouble only means a
miss: the page is rendered as usual. `X-Cache: HIT` / `MISS` tells which happened.
"""

from __future__ import annotations

import hashlib
import logging
import re
from collections.abc import Awaitable, Callable, Iterable, Mapping
from dataclasses import dataclass
from http.cookies import SimpleCookie
from types import SimpleNamespace
from typing import Any

import msgpack
from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.utils.translation import get_language_from_request
from redis.exceptions import NoScriptError, RedisError

from config.redis_connections import get_async_redis, get_redis, key

logger = logging.getLogger(__name__)

MARK_HEADER = "X-Lawline-Shareable"
_MARK = MARK_HEADER.lower().encode()
MESSAGES_COOKIE = "messages"

# On a hit, which Redis hash field to add one to (the question page counts its view), if any.
CountHit = Callable[[re.Match[str], Mapping[str, str]], tuple[str, str] | None]


@dataclass(frozen=True)
class Route:
    pattern: re.Pattern[str]
    seconds_setting: str
    count_hit: CountHit | None = None

    @property
    def seconds(self) -> int:
        return int(getattr(settings, self.seconds_setting, 0) or 0)


_routes: list[Route] = []


def register(pattern: str, *, seconds_setting: str, count_hit: CountHit | None = None) -> None:
    """Let the middleware serve paths matching `pattern` (a full-path regex) from the cache
    for as long as the setting says (0 switches it off)."""
    compiled = re.compile(pattern)
    _routes[:] = [r for r in _routes if r.pattern.pattern != pattern]
    _routes.append(Route(compiled, seconds_setting, count_hit))


def _route_for(path: str) -> tuple[Route, re.Match[str]] | None:
    for route in _routes:
        match = route.pattern.fullmatch(path)
        if match is not None:
            return route, match
    return None


def visitor_is_anonymous(cookies: Mapping[str, str], has_authorization: bool) -> bool:
    """No session, no pending flash message, no token: the visitor sees the public page."""
    return not (
        has_authorization
        or cookies.get(settings.SESSION_COOKIE_NAME)
        or cookies.get(MESSAGES_COOKIE)
    )


# --- the view's side --------------------------------------------------------------------
def mark_shareable(request: HttpRequest, response: HttpResponse) -> HttpResponse:
    """Offer this response to the page cache if every anonymous visitor would get the same.
    The middleware also refuses it if a later middleware sets a cookie."""
    if (
        request.method == "GET"
        and not request.META.get("QUERY_STRING")
        and response.status_code == 200
        and not response.cookies
        and visitor_is_anonymous(request.COOKIES, "HTTP_AUTHORIZATION" in request.META)
    ):
        response[MARK_HEADER] = "1"
    return response


def page_key(language: str, path: str) -> str:
    return key("page", language, path)


def generation_key(path: str) -> str:
    return key("page-gen", path)


def forget(paths: Iterable[str]) -> None:
    """Drop cached copies of these pages in every language; a rendering already under way
    for one of them will not be stored. Call after the write commits."""
    pipe = get_redis().pipeline(transaction=False)
    for path in paths:
        pipe.delete(*(page_key(code, path) for code, _ in settings.LANGUAGES))
        pipe.incr(generation_key(path))
        pipe.expire(generation_key(path), 24 * 3600)
    try:
        pipe.execute()
    except RedisError:
        logger.warning("page cache: could not forget pages", exc_info=True)


# --- the ASGI side ----------------------------------------------------------------------
# One round trip per request: the page if cached (counting the hit), else the generation the
# rendering starts from.
_LOOKUP = """
local page = redis.call('GET', KEYS[1])
if page then
  if ARGV[1] ~= '' then redis.call('HINCRBY', KEYS[3], ARGV[1], 1) end
  return {page}
end
return {false, redis.call('GET', KEYS[2])}
"""
_LOOKUP_SHA = hashlib.sha1(_LOOKUP.encode(), usedforsecurity=False).hexdigest()  # script id
_STORE_IF_SAME_GENERATION = """
if (redis.call('GET', KEYS[2]) or '0') == ARGV[1] then
  redis.call('SET', KEYS[1], ARGV[2], 'EX', ARGV[3])
  return 1
end
return 0
"""


def _headers(scope: Mapping[str, Any]) -> dict[str, str]:
    return {name.decode("latin-1"): value.decode("latin-1") for name, value in scope["headers"]}


def _cookies(header: str) -> dict[str, str]:
    if not header:
        return {}
    parsed: SimpleCookie = SimpleCookie()
    try:
        parsed.load(header)
    except Exception:  # a malformed cookie header: treat the visitor as not anonymous
        return {settings.SESSION_COOKIE_NAME: "?"}
    return {name: morsel.value for name, morsel in parsed.items()}


def _language(cookies: Mapping[str, str], accept_language: str) -> str:
    probe = SimpleNamespace(COOKIES=cookies, META={"HTTP_ACCEPT_LANGUAGE": accept_language})
    return get_language_from_request(probe)  # type: ignore[arg-type]


class PageCacheMiddleware:
    """ASGI middleware in front of the HTTP app (config/asgi.py)."""

    def __init__(self, app: Callable[..., Awaitable[None]]):
        self.app = app

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "http" or scope["method"] != "GET" or scope.get("query_string"):
            return await self.app(scope, receive, send)
        found = _route_for(scope["path"])
        if found is None or found[0].seconds <= 0:
            return await self.app(scope, receive, send)
        route, match = found
        headers = _headers(scope)
        cookies = _cookies(headers.get("cookie", ""))
        if not visitor_is_anonymous(cookies, "authorization" in headers):
            return await self.app(scope, receive, send)
        page = page_key(_language(cookies, headers.get("accept-language", "")), scope["path"])
        counter = route.count_hit(match, headers) if route.count_hit else None
        try:
            reply = await _lookup(page, generation_key(scope["path"]), counter)
        except (RedisError, OSError):
            return await self.app(scope, receive, send)
        if reply[0] is not None:
            return await self._replay(reply[0], send)
        generation = reply[1] if len(reply) > 1 else None
        await self.app(scope, receive, self._recorder(send, page, scope["path"], generation, route))
        return None

    @staticmethod
    async def _replay(cached: bytes | str, send) -> None:
        status, headers, body = msgpack.unpackb(cached)
        await send({"type": "http.response.start", "status": status, "headers": headers})
        await send({"type": "http.response.body", "body": body})

    @staticmethod
    def _recorder(send, page: str, path: str, generation: bytes | str | None, route: Route):
        """Passes the response through (without the mark) and stores it if it was marked."""
        state: dict[str, Any] = {"keep": False, "body": []}

        async def recording_send(message) -> None:
            if message["type"] == "http.response.start":
                headers = [(n, v) for n, v in message["headers"] if n.lower() != _MARK]
                marked = len(headers) != len(message["headers"])
                sets_cookie = any(n.lower() == b"set-cookie" for n, _ in headers)
                state["keep"] = marked and not sets_cookie and message["status"] == 200
                state["start"] = (message["status"], headers)
                message = {**message, "headers": [*headers, (b"x-cache", b"MISS")]}
                await send(message)
                return
            await send(message)
            if message["type"] == "http.response.body" and state["keep"]:
                state["body"].append(message.get("body", b""))
                if not message.get("more_body", False):
                    await _store(page, path, generation, route, state)

        return recording_send


async def _lookup(page: str, generation: str, counter: tuple[str, str] | None) -> list:
    redis = get_async_redis()
    keys = [page, generation, counter[0] if counter else page]
    args = [counter[1] if counter else ""]
    try:
        return await redis.evalsha(_LOOKUP_SHA, 3, *keys, *args)
    except NoScriptError:
        return await redis.eval(_LOOKUP, 3, *keys, *args)


async def _store(page, path, generation, route, state) -> None:
    status, headers = state["start"]
    value = msgpack.packb([status, [*headers, (b"x-cache", b"HIT")], b"".join(state["body"])])
    try:
        await get_async_redis().eval(
            _STORE_IF_SAME_GENERATION,
            2,
            page,
            generation_key(path),
            generation if isinstance(generation, str) else (generation or b"0").decode(),
            value,
            route.seconds,
        )
    except (RedisError, OSError):
        logger.warning("page cache: could not store a page")
