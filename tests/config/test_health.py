import pytest
import redis

from config.devstack import EmbeddedRedis

pytestmark = pytest.mark.django_db


def test_healthz_is_green_with_database_redis_and_a_worker(client, celery_test_worker):
    response = client.get("/healthz")
    assert response.status_code == 200, response.json()
    assert response.json() == {
        "status": "ok",
        "checks": {"database": "ok", "redis": "ok", "celery": "ok"},
    }


def test_healthz_fails_when_redis_is_down(client, settings, tmp_path):
    # given a Redis of the test's own that answers, then is stopped
    own = EmbeddedRedis(tmp_path).start()
    settings.REDIS_APP_URL = f"{own.url}/0"
    assert redis.Redis.from_url(settings.REDIS_APP_URL).ping()
    own.stop()
    # when
    response = client.get("/healthz")
    # then
    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "error"
    assert body["checks"]["redis"].startswith("error")
    assert body["checks"]["database"] == "ok"


def test_metrics_counts_requests_in_prometheus_text(client):
    from config.observability import flush

    client.get("/api/v1/categories")
    flush()
    body = client.get("/metrics").content.decode()
    assert "# TYPE lawline_http_requests_total counter" in body
    assert 'lawline_http_requests_total{method="GET",status="2xx"}' in body
    assert "lawline_ws_connections " in body
    assert 'lawline_celery_queue_length{queue="matching"}' in body


def test_metrics_ask_for_the_token_when_one_is_set(client, settings):
    settings.METRICS_TOKEN = "scrape-secret"
    refused = client.get("/metrics")
    assert refused.status_code == 401
    assert refused.json()["code"] == "metrics_token_required"
    assert client.get("/metrics", HTTP_AUTHORIZATION="Bearer wrong").status_code == 401
    allowed = client.get("/metrics", HTTP_AUTHORIZATION="Bearer scrape-secret")
    assert allowed.status_code == 200
    assert "lawline_ws_connections " in allowed.content.decode()


def test_metrics_are_closed_without_a_token_where_one_is_required(client, settings):
    settings.METRICS_TOKEN = ""
    settings.METRICS_REQUIRE_TOKEN = True
    assert client.get("/metrics").status_code == 401
