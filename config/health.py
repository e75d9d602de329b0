"""`/healthz` (database, Redis, Celery worker) and `/metrics` (Prometheus text).

`/healthz` is open, for load balancers. `/metrics` asks for `Authorization: Bearer
<METRICS_TOKEN>` when that setting is given; without one it is open in development and
closed in production (METRICS_REQUIRE_TOKEN)."""

from __future__ import annotations

import hmac
import time

import redis
from django.conf import settings
from django.db import connection
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.cache import never_cache

from config.celery_app import app as celery_app
from config.observability import flush, metrics_key
from config.redis_connections import get_redis
from workers.routing import QUEUES


def check_database() -> str:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
        return "ok"
    except Exception as exc:
        return f"error: {type(exc).__name__}"


def check_redis() -> str:
    try:
        client = redis.Redis.from_url(
            settings.REDIS_APP_URL, socket_timeout=1, socket_connect_timeout=1
        )
        client.ping()
        client.close()
        return "ok"
    except Exception as exc:
        return f"error: {type(exc).__name__}"


def check_celery() -> str:
    try:
        replies = celery_app.control.ping(timeout=settings.HEALTH_CELERY_TIMEOUT)
    except Exception as exc:
        return f"error: {type(exc).__name__}"
    return "ok" if replies else "error: no worker answered"


def health_checks() -> dict[str, str]:
    """{"database" | "redis" | "celery": "ok" or "error: …"}."""
    checks = {"database": check_database(), "redis": check_redis()}
    checks["celery"] = check_celery() if checks["redis"] == "ok" else "error: redis down"
    return checks


_recent: tuple[float, dict[str, str]] | None = None


def recent_health_checks(
    max_age_seconds: float = 10.0, *, now: float | None = None
) -> tuple[float, dict[str, str]]:
    """(when, checks), run again only when older than `max_age_seconds` in this process: the
    public status page may be reloaded by anyone, and each run pings every Celery worker."""
    global _recent
    now = time.time() if now is None else now
    if _recent is None or now - _recent[0] > max_age_seconds:
        _recent = (now, health_checks())
    return _recent


@never_cache
def healthz(request: HttpRequest) -> JsonResponse:
    checks = health_checks()
    healthy = all(value == "ok" for value in checks.values())
    return JsonResponse(
        {"status": "ok" if healthy else "error", "checks": checks}, status=200 if healthy else 503
    )


def queue_lengths() -> dict[str, int]:
    broker = redis.Redis.from_url(
        settings.CELERY_BROKER_URL, socket_timeout=1, socket_connect_timeout=1
    )
    pipe = broker.pipeline(transaction=False)
    for queue in QUEUES:
        pipe.llen(queue)
    lengths = dict(zip(QUEUES, pipe.execute(), strict=True))
    broker.close()
    return lengths


def _metrics_allowed(request: HttpRequest) -> bool:
    token = settings.METRICS_TOKEN
    if not token:
        return not settings.METRICS_REQUIRE_TOKEN
    scheme, _, given = request.headers.get("Authorization", "").partition(" ")
    return scheme.lower() == "bearer" and hmac.compare_digest(given.strip(), token)


@never_cache
def metrics(request: HttpRequest) -> HttpResponse:
    if not _metrics_allowed(request):
        response = JsonResponse(
            {"code": "metrics_token_required", "message": "Send the metrics bearer token."},
            status=401,
        )
        response["WWW-Authenticate"] = 'Bearer realm="metrics"'
        return response
    flush()
    lines: list[str] = []
    try:
        raw = get_redis().hgetall(metrics_key())
    except redis.RedisError:
        raw = {}
    values = {(k.decode() if isinstance(k, bytes) else k): int(v) for k, v in raw.items()}
    lines += [
        "# HELP lawline_http_requests_total HTTP requests served.",
        "# TYPE lawline_http_requests_total counter",
    ]
    for field, value in sorted(values.items()):
        if field.startswith("http_requests_total|"):
            _, method, status = field.split("|")
            lines.append(
                f'lawline_http_requests_total{{method="{method}",status="{status}"}} {value}'
            )
    opened = values.get("ws_connections_opened_total", 0)
    closed = values.get("ws_connections_closed_total", 0)
    lines += [
        "# HELP lawline_ws_connections_opened_total WebSocket connections accepted.",
        "# TYPE lawline_ws_connections_opened_total counter",
        f"lawline_ws_connections_opened_total {opened}",
        "# HELP lawline_ws_connections_closed_total WebSocket connections closed.",
        "# TYPE lawline_ws_connections_closed_total counter",
        f"lawline_ws_connections_closed_total {closed}",
        "# HELP lawline_ws_connections WebSocket connections open now.",
        "# TYPE lawline_ws_connections gauge",
        f"lawline_ws_connections {max(opened - closed, 0)}",
    ]
    try:
        lengths = queue_lengths()
    except redis.RedisError:
        lengths = {}
    lines += [
        "# HELP lawline_celery_queue_length Tasks waiting in each Celery queue.",
        "# TYPE lawline_celery_queue_length gauge",
    ]
    for queue, length in lengths.items():
        lines.append(f'lawline_celery_queue_length{{queue="{queue}"}} {length}')
    return HttpResponse("\n".join(lines) + "\n", content_type="text/plain; version=0.0.4")
