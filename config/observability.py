"""Prometheus text metrics shared by every process through Redis.

Each process counts requests in memory and adds them to Redis at most once a second, so a
request costs no Redis round trip; socket opens and closes are counted the same way.
"""

from __future__ import annotations

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


def count(field: str, amount: int = 1) -> None:
    global _last_flush
    with _lock:
        _pending[field] += amount
        now = time.monotonic()
        if now - _last_flush < FLUSH_INTERVAL:
            return
        batch = dict(_pending)
        _pending.clear()
        _last_flush = now
    flush(batch)


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
    count("ws_connections_opened_total")


def socket_closed() -> None:
    count("ws_connections_closed_total")


class RequestMetricsMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        status_class = f"{response.status_code // 100}xx"
        count(f"http_requests_total|{request.method}|{status_class}")
        return response
