"""Request and socket counters (config/observability.py)."""

from __future__ import annotations

import asyncio
import threading

import pytest

from config import observability


async def test_socket_counter_flushes_off_the_event_loop(monkeypatch):
    # given a flush that is due, recorded instead of sent
    flushed: list[tuple[int, dict[str, int]]] = []
    done = threading.Event()

    def record(batch=None):
        flushed.append((threading.get_ident(), batch))
        done.set()

    monkeypatch.setattr(observability, "flush", record)
    monkeypatch.setattr(observability, "_last_flush", 0.0)
    # when a socket opens
    observability.socket_opened()
    # then the Redis round trip runs on another thread, with the count in its batch
    assert await asyncio.to_thread(done.wait, 5)
    ((thread_id, batch),) = flushed
    assert thread_id != threading.get_ident()
    assert batch["ws_connections_opened_total"] >= 1


@pytest.mark.django_db
def test_an_unknown_method_is_counted_as_other_and_metrics_still_parse(client):
    # given a request whose method holds the field separator
    client.generic("GET|X", "/api/v1/categories")
    observability.flush()
    # when
    response = client.get("/metrics")
    # then
    assert response.status_code == 200
    assert 'lawline_http_requests_total{method="OTHER",' in response.content.decode()
