"""Prometheus text metrics shared by every process through Redis.

Each process counts requests in memory and adds them to Redis at most once a second, so a
request costs no Redis round trip; socket opens and closes are counted the same way.
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from collections import Counter
from collections.abc import Callable

from django.http import HttpRequest, HttpResponse

from config.redis_connections import get_redis, key

logger = logging.getLogger(__name__)

FLUSH_INTERVAL = 1.0
_lock = threading.Lock()
_pending: Counter[str] = Counter()
_last_flush = time.monotonic()


def metrics_key() -> str:
    return key("metrics")


def _add(field: str, amount: int) -> dict[str, int] | None:
    """Count in memory; the batch to flush when the interval has passed, else None."""
    global _last_flush
    with _lock:
        _pending[field] += amount
        now = time.monotonic()
        if now - _last_flush < FLUSH_INTERVAL:
            return None
        batch = dict(_pending)
        _pending.clear()
        _last_flush = now
    return batch


def count(field: str, amount: int = 1) -> None:
    """From sync code (request threads): the flush, when due, runs in the caller."""
    batch = _add(field, amount)
    if batch is not None:
        flush(batch)


def _count_from_event_loop(field: str) -> None:
    # the flush is a blocking Redis round trip (seconds when Redis is down): it must not run
    # on the event loop every socket of this process shares
    batch = _add(field, 1)
    if batch is not None:
        asyncio.get_running_loop().run_in_executor(None, flush, batch)


def flush(batch: dict[str, int] | None = None) -> None:
    if batch is None:
        with _lock:
            batch = dict(_pending)
            _pending.clear()
    if not batch:
        return
    try:
        pipe = get_redis().pipeline(transaction=False)
        for field, amount in batch.items():
            pipe.hincrby(metrics_key(), field, amount)
        pipe.execute()
    except Exception as exc:  # metrics must never break a request
        logger.warning("metrics flush failed: %s", type(exc).__name__)


def socket_opened() -> None:
    """Called on the event loop (the consumer's connect). A Prometheus total of every socket
    ever opened, not who is connected: that is `accounts.realtime.user_sockets_key`."""
    _count_from_event_loop("ws_connections_opened_total")


def socket_closed() -> None:
    """Called on the event loop (the consumer's disconnect)."""
    _count_from_event_loop("ws_connections_closed_total")


# a method is any HTTP token (which may hold "|", the field separator): others are counted as
# one, so a client can neither break the /metrics parse nor grow the hash without bound
METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})


class RequestMetricsMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        status_class = f"{response.status_code // 100}xx"
        method = request.method if request.method in METHODS else "OTHER"
        count(f"http_requests_total|{method}|{status_class}")
        return response
