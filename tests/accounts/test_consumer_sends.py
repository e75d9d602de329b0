"""accounts.consumers.ClientConsumer when the client is gone before a frame goes out: the ASGI
server raises an OSError (uvicorn's ClientDisconnected), which is not a server error."""

from __future__ import annotations

import logging

import pytest
from uvicorn.protocols.utils import ClientDisconnected

from accounts import frames
from accounts.consumers import ClientConsumer


def gone_consumer() -> tuple[ClientConsumer, list[dict]]:
    consumer = ClientConsumer()
    consumer.user_id, consumer.language = 7, "en"
    attempts: list[dict] = []

    async def send_to_a_closed_socket(message: dict) -> None:
        attempts.append(message)
        raise ClientDisconnected()

    consumer.base_send = send_to_a_closed_socket
    return consumer, attempts


async def test_a_frame_to_a_socket_already_gone_is_dropped_quietly(caplog):
    consumer, attempts = gone_consumer()
    with caplog.at_level(logging.DEBUG, logger="accounts.consumers"):
        await consumer.send_frame({"type": "pong"})
    assert len(attempts) == 1
    assert [r.levelno for r in caplog.records] == [logging.DEBUG]


async def test_a_resume_cut_short_by_the_client_leaving_is_not_an_error(caplog, monkeypatch):
    # given a resume hook that re-sends two frames, and a client that left meanwhile
    sent_all = []

    async def resend(consumer, frame) -> None:
        await consumer.send_frame({"type": "resent", "n": 1})
        await consumer.send_frame({"type": "resent", "n": 2})
        sent_all.append(True)

    monkeypatch.setitem(frames.HOOKS, "resume", [resend])
    consumer, attempts = gone_consumer()
    # when
    with caplog.at_level(logging.INFO):
        await consumer.run_hooks("resume", {"type": "resume"})
    # then nothing is logged as failed and no error frame is attempted
    assert sent_all == [True]
    assert [a["text"] for a in attempts if "error" in a["text"]] == []
    assert not [r for r in caplog.records if r.levelno >= logging.WARNING]


@pytest.mark.parametrize("error", [TimeoutError, ConnectionResetError])
async def test_other_errors_of_a_hook_are_still_reported(caplog, monkeypatch, error):
    async def failing(consumer, frame) -> None:
        raise error()

    monkeypatch.setitem(frames.HOOKS, "resume", [failing])
    consumer, _ = gone_consumer()
    with caplog.at_level(logging.INFO):
        await consumer.run_hooks("resume", {"type": "resume"})
    assert any("socket hook resume" in r.getMessage() for r in caplog.records)
