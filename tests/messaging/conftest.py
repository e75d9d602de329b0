from __future__ import annotations

import time
from collections.abc import Iterator

import pytest
from django.db import connection

from messaging.models import Conversation
from tests.messaging.factories import direct_conversation


@pytest.fixture
def conversation(asker, lawyer) -> Conversation:
    """A direct conversation between `asker` and `lawyer`."""
    return direct_conversation(asker, lawyer)


@pytest.fixture
def outsider(request):
    """Someone not in `conversation`: parametrize indirectly with a user fixture's name."""
    return request.getfixturevalue(request.param)


@pytest.fixture
def failing_message_inserts() -> Iterator[None]:
    """A real database error on every insert of a message (a trigger), as when the disk fills
    or a constraint we did not foresee fires."""
    with connection.cursor() as cursor:
        cursor.execute(
            """
            CREATE OR REPLACE FUNCTION messaging_test_refuse_insert() RETURNS trigger AS $$
            BEGIN RAISE EXCEPTION 'simulated storage failure'; END $$ LANGUAGE plpgsql;
            CREATE TRIGGER messaging_test_refuse_insert BEFORE INSERT ON messaging_message
            FOR EACH ROW EXECUTE FUNCTION messaging_test_refuse_insert();
            """
        )
    yield
    with connection.cursor() as cursor:
        cursor.execute(
            "DROP TRIGGER IF EXISTS messaging_test_refuse_insert ON messaging_message;"
            "DROP FUNCTION IF EXISTS messaging_test_refuse_insert();"
        )


class Inbox:
    """Frames from one socket, by type: `await inbox.next("message.new")` returns the first
    frame of that type, keeping frames of other types for later calls (receive_until drops
    them, which loses an early `message.new` while waiting for an ack)."""

    def __init__(self, sock):
        self.sock = sock
        self.pending: list[dict] = []

    async def next(self, frame_type: str, timeout: float = 3) -> dict:
        for index, frame in enumerate(self.pending):
            if frame["type"] == frame_type:
                return self.pending.pop(index)
        deadline = time.monotonic() + timeout
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise AssertionError(f"no {frame_type!r} frame within {timeout}s")
            frame = await self.sock.receive_json_from(timeout=remaining)
            if frame["type"] == frame_type:
                return frame
            self.pending.append(frame)

    async def nothing(self, frame_type: str, timeout: float = 0.5) -> bool:
        """True when no frame of this type arrives within the timeout. Waits with
        receive_nothing: a timed-out receive would cancel the consumer."""
        if any(frame["type"] == frame_type for frame in self.pending):
            return False
        deadline = time.monotonic() + timeout
        while (remaining := deadline - time.monotonic()) > 0:
            if await self.sock.receive_nothing(timeout=remaining, interval=0.02):
                return True
            frame = await self.sock.receive_json_from(timeout=1)
            if frame["type"] == frame_type:
                return False
            self.pending.append(frame)
        return True

    async def send(self, frame: dict) -> None:
        await self.sock.send_json_to(frame)


@pytest.fixture
def inbox(ws):
    """`sock = await inbox(user)`: a socket wrapped in an Inbox, its connect hooks done."""

    async def open_inbox(user) -> Inbox:
        sock = Inbox(await ws(user))
        # the consumer handles one event at a time: the pong comes after its connect hooks
        await sock.send({"type": "ping"})
        await sock.next("pong")
        return sock

    return open_inbox
