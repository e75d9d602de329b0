"""Request and socket counters (config/observability.py)."""

from __future__ import annotations

import asyncio
import threading

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
