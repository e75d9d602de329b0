import pytest
import redis

from config import health
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


def test_the_status_page_says_in_words_that_everything_works(client, celery_test_worker):
    health._recent = None
    html = client.get("/status/", HTTP_ACCEPT_LANGUAGE="en").content.decode()

    assert 'data-overall="ok"' in html and "Everything is working." in html
    assert html.count('data-part-ok="true"') == 3


def test_the_status_page_names_the_part_that_is_down(client, settings, tmp_path):
    # given Redis down (then the workers cannot be asked either)
    own = EmbeddedRedis(tmp_path).start()
    settings.REDIS_APP_URL = f"{own.url}/0"
    own.stop()
    health._recent = None
    # when
    response = client.get("/status/")
    # then a person reads which part is down, in the page's language
    html = response.content.decode()
    assert response.status_code == 200
    assert 'data-overall="disrupted"' in html
    assert html.count('data-part-ok="false"') == 2  # live chat, and the background work
    assert "实时聊天、咨询推送与通知" in html and "故障" in html


def test_the_status_page_runs_its_checks_at_most_every_ten_seconds(monkeypatch):
    runs = []
    monkeypatch.setattr(health, "health_checks", lambda: runs.append(1) or {"database": "ok"})
    monkeypatch.setattr(health, "_recent", None)

    for now in (1000.0, 1005.0, 1011.0):
        health.recent_health_checks(now=now)

    assert len(runs) == 2
