"""Hostile frames on the one socket: oversized, invalid UTF-8, deeply nested, not an object,
unknown types, every field of every frame type given the wrong type, and floods. Each gets an
`error` frame (with the `ref` it answers when it has one), nothing is half-written, and the
socket stays open and usable."""

from __future__ import annotations

import json

import pytest
from asgiref.sync import sync_to_async

from accounts.consumers import MAX_FRAME_BYTES
from messaging.models import Message
from tests.conftest import receive_until
from tests.factories import AskerFactory, LawyerProfileFactory
from tests.messaging.factories import direct_conversation

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)

HUGE = 2**70
# wrong values for each field of each frame type a client may send
BAD_FIELDS: dict[str, dict[str, list]] = {
    "message.send": {
        "conversation": [None, True, 1.5, -1, 0, HUGE, "1", [], {}],
        "client_id": [None, 1, True, "", "x" * 65, "nul\x00", [], {}],
        "body": [None, 1, True, "", "   ", "x" * 4001, "nul\x00byte", [], {"text": "hi"}],
    },
    "typing": {"conversation": [None, False, 2.5, -3, HUGE, "abc", [1], {}]},
    "read": {
        "conversation": [None, True, "1", -1, HUGE, []],
        "seq": [None, True, "5", -1, 1.5, HUGE, {}],
    },
    "resume": {
        "cursors": [
            None,
            1,
            "x",
            [],
            [1, 2],
            {"x": 1},
            {"1": "x"},
            {"1": -1},
            {"-5": 1},
            {"1": True},
            {"1": HUGE},
            {str(i): 0 for i in range(1001)},
        ],
    },
    "presence": {"status": [None, 1, True, "busy", [], {}]},
    "offer.accept": {"offer": [None, True, -1, 0, 1.5, HUGE, "abc", [], {"id": "x"}]},
    "offer.decline": {"offer": [None, False, -7, HUGE, "", [], {}]},
}
VALID = {
    "message.send": {"client_id": "c-1", "body": "hello"},
    "typing": {},
    "read": {"seq": 1},
    "resume": {},
    "presence": {"status": "online"},
    "offer.accept": {"offer": 1},
    "offer.decline": {"offer": 1},
}


@sync_to_async
def make_pair():
    asker = AskerFactory()
    lawyer = LawyerProfileFactory().user
    return asker, lawyer, direct_conversation(asker, lawyer).pk


async def assert_alive(sock) -> None:
    await sock.send_json_to({"type": "ping"})
    assert (await receive_until(sock, "pong"))["type"] == "pong"


def bad_frames(conversation: int):
    for frame_type, fields in BAD_FIELDS.items():
        for field, values in fields.items():
            for value in values:
                frame = {"type": frame_type, **VALID[frame_type], field: value}
                if frame_type in ("message.send", "typing", "read") and field != "conversation":
                    frame["conversation"] = conversation
                yield frame_type, field, value, frame


async def test_every_field_of_every_frame_type_with_a_wrong_value_gets_an_error(ws):
    # given a lawyer's socket and an asker's, in a conversation together
    asker, lawyer, conversation = await make_pair()
    socks = {"asker": await ws(asker), "lawyer": await ws(lawyer)}
    for frame_type, field, value, frame in bad_frames(conversation):
        sock = socks[
            "lawyer" if frame_type in ("presence", "offer.accept", "offer.decline") else "asker"
        ]
        # when
        await sock.send_json_to(frame)
        # then
        error = await receive_until(sock, "error", timeout=5)
        assert error["code"], (frame_type, field, value)
        if (
            frame_type == "message.send"
            and isinstance(frame.get("client_id"), str)
            and frame["client_id"]
        ):
            assert error["ref"] == frame["client_id"], (frame_type, field, value, error)
    # and nothing was stored, and both sockets still work
    assert await sync_to_async(Message.objects.filter(conversation_id=conversation).count)() == 0
    for sock in socks.values():
        await assert_alive(sock)


@pytest.mark.parametrize(
    ("raw", "code"),
    [
        pytest.param("x" * (MAX_FRAME_BYTES + 1), "frame_too_large", id="oversized-text"),
        pytest.param(b"\xff\xfe\x00{" * 10, "invalid_json", id="invalid-utf8-binary"),
        pytest.param(b'{"type": "ping\xc3\x28"}', "invalid_json", id="broken-utf8-in-json"),
        pytest.param("[" * 30000 + "]" * 30000, "invalid_json", id="deep-array"),
        pytest.param('{"a":' * 10000 + "1" + "}" * 10000, "invalid_json", id="deep-object"),
        pytest.param("{not json", "invalid_json", id="not-json"),
        pytest.param("[1, 2, 3]", "invalid_frame", id="an-array"),
        pytest.param('"ping"', "invalid_frame", id="a-string"),
        pytest.param("null", "invalid_frame", id="null"),
        pytest.param('{"body": "no type"}', "invalid_frame", id="no-type"),
        pytest.param('{"type": 7}', "invalid_frame", id="type-not-a-string"),
        pytest.param('{"type": "rm -rf"}', "unknown_type", id="unknown-type"),
        pytest.param('{"type": "__init__"}', "unknown_type", id="dunder-type"),
        pytest.param(
            '{"type": "client.frame", "frame": {"type": "x"}}',
            "unknown_type",
            id="layer-event-name",
        ),
        pytest.param('{"type": "ping", "type": "message.send"}', "invalid", id="duplicate-keys"),
    ],
)
async def test_malformed_frames_get_an_error_and_the_socket_stays_open(ws, raw, code):
    # given
    asker = await sync_to_async(AskerFactory)()
    sock = await ws(asker)
    # when
    if isinstance(raw, bytes):
        await sock.send_to(bytes_data=raw)
    else:
        await sock.send_to(text_data=raw)
    # then
    error = await receive_until(sock, "error", timeout=5)
    assert error["code"] == code, error
    await assert_alive(sock)


async def test_a_flood_of_frames_is_answered_and_messages_are_rate_limited(ws):
    # given
    asker, _, conversation = await make_pair()
    sock = await ws(asker)
    # when 300 sends and 300 unknown frames arrive as fast as they can be written
    for i in range(300):
        await sock.send_to(
            text_data=json.dumps(
                {
                    "type": "message.send",
                    "conversation": conversation,
                    "client_id": f"f{i}",
                    "body": f"flood {i}",
                }
            )
        )
        await sock.send_to(text_data='{"type": "nonsense"}')
    # then every one is answered: the first 20 sends stored, the rest refused
    answers: list[dict] = []
    while len(answers) < 600:
        frame = await sock.receive_json_from(timeout=10)
        if frame["type"] != "message.new":  # the sender's own copy of each stored message
            answers.append(frame)
    acks = [a for a in answers if a["type"] == "message.ack"]
    limited = [a for a in answers if a.get("code") == "rate_limited"]
    unknown = [a for a in answers if a.get("code") == "unknown_type"]
    assert (len(acks), len(limited), len(unknown)) == (20, 280, 300)
    assert [a["client_id"] for a in acks] == [f"f{i}" for i in range(20)]
    assert await sync_to_async(Message.objects.filter(conversation_id=conversation).count)() == 20
    await assert_alive(sock)
