import asyncio
import json

import pytest
import websockets
from channels.testing import WebsocketCommunicator

from accounts.consumers import CLOSE_UNAUTHENTICATED
from config.asgi import application

pytestmark = pytest.mark.django_db(transaction=True)


async def test_bearer_token_socket_is_accepted_and_answers_ping(ws, asker):
    sock = await ws(asker)
    await sock.send_json_to({"type": "ping"})
    assert await sock.receive_json_from(timeout=3) == {"type": "pong"}


async def test_anonymous_socket_is_closed_with_4401():
    sock = WebsocketCommunicator(application, "/ws/", headers=[(b"origin", b"http://127.0.0.1")])
    connected, _ = await sock.connect(timeout=5)
    assert connected
    closed = await sock.receive_output(timeout=3)
    assert closed == {"type": "websocket.close", "code": CLOSE_UNAUTHENTICATED}
    await sock.disconnect()


async def test_bad_token_counts_as_anonymous():
    sock = WebsocketCommunicator(
        application,
        "/ws/",
        headers=[(b"origin", b"http://127.0.0.1"), (b"authorization", b"Bearer ll_not-a-token")],
    )
    await sock.connect(timeout=5)
    assert (await sock.receive_output(timeout=3))["code"] == CLOSE_UNAUTHENTICATED
    await sock.disconnect()


@pytest.mark.parametrize("origin", [b"http://evil.example", None])
async def test_foreign_or_missing_origin_is_refused(asker, origin):
    from asgiref.sync import sync_to_async

    from tests.conftest import bearer_for

    raw = await sync_to_async(bearer_for)(asker)
    headers = [(b"authorization", f"Bearer {raw}".encode())]
    if origin:
        headers.append((b"origin", origin))
    sock = WebsocketCommunicator(application, "/ws/", headers=headers)
    connected, _ = await sock.connect(timeout=5)
    assert not connected
    await sock.disconnect()


async def test_session_cookie_authenticates_the_socket(asker):
    from asgiref.sync import sync_to_async
    from django.conf import settings
    from django.test import Client

    client = Client()
    await sync_to_async(client.force_login)(asker)
    cookie = f"{settings.SESSION_COOKIE_NAME}={client.cookies[settings.SESSION_COOKIE_NAME].value}"
    sock = WebsocketCommunicator(
        application,
        "/ws/",
        headers=[(b"origin", b"http://127.0.0.1"), (b"cookie", cookie.encode())],
    )
    connected, _ = await sock.connect(timeout=5)
    assert connected
    await sock.send_json_to({"type": "ping"})
    assert (await sock.receive_json_from(timeout=3))["type"] == "pong"
    await sock.disconnect()


@pytest.mark.parametrize(
    ("raw", "code"),
    [
        ("not json", "invalid_json"),
        ("[1, 2]", "invalid_frame"),
        ('{"type": 5}', "invalid_frame"),
        ('{"type": "no.such.thing", "client_id": "c1"}', "unknown_type"),
        ("[" * 5000 + "]" * 5000, "invalid_json"),
    ],
)
async def test_bad_frames_get_error_frames_and_socket_stays_usable(ws, asker, raw, code):
    sock = await ws(asker)
    await sock.send_to(text_data=raw)
    error = await sock.receive_json_from(timeout=3)
    assert error["type"] == "error"
    assert error["code"] == code
    await sock.send_json_to({"type": "ping"})
    assert (await sock.receive_json_from(timeout=3))["type"] == "pong"


async def test_oversized_frame_is_refused_without_parsing(ws, asker):
    sock = await ws(asker)
    await sock.send_to(text_data=json.dumps({"type": "ping", "pad": "x" * 70_000}))
    assert (await sock.receive_json_from(timeout=3))["code"] == "frame_too_large"


async def test_push_reaches_every_socket_of_the_user(ws, asker, other_asker):
    from asgiref.sync import sync_to_async

    from accounts.realtime import push_to_users

    first, second, stranger = await ws(asker), await ws(asker), await ws(other_asker)
    await sync_to_async(push_to_users)([asker.pk], {"type": "test.hello", "n": 1})
    assert await first.receive_json_from(timeout=3) == {"type": "test.hello", "n": 1}
    assert await second.receive_json_from(timeout=3) == {"type": "test.hello", "n": 1}
    assert await stranger.receive_nothing(timeout=0.3)


def test_real_server_accepts_token_and_refuses_anonymous_and_foreign_origin(web_processes, asker):
    from tests.conftest import bearer_for

    server = web_processes()
    token = bearer_for(asker)

    async def scenario():
        async with websockets.connect(
            server.ws_url,
            origin=server.http_url,
            additional_headers={"Authorization": f"Bearer {token}"},
        ) as sock:
            await sock.send(json.dumps({"type": "ping"}))
            assert json.loads(await asyncio.wait_for(sock.recv(), 5)) == {"type": "pong"}
        async with websockets.connect(server.ws_url, origin=server.http_url) as sock:
            with pytest.raises(websockets.ConnectionClosed) as closed:
                await asyncio.wait_for(sock.recv(), 5)
            assert closed.value.rcvd.code == CLOSE_UNAUTHENTICATED
        with pytest.raises(websockets.InvalidStatus) as refused:
            async with websockets.connect(
                server.ws_url,
                origin="http://evil.example",
                additional_headers={"Authorization": f"Bearer {token}"},
            ):
                pass
        assert refused.value.response.status_code == 403

    asyncio.run(scenario())
