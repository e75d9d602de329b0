"""Open sockets do not outlive a change of credentials: a password change or reset, a revoked
token and a closed account each close the user's sockets with 4001, and only a client still
signed in by what it holds gets back in (after a reset no token does; after a change, only the
token the change was made with)."""

from __future__ import annotations

import json

import pytest
from asgiref.sync import sync_to_async
from channels.testing import WebsocketCommunicator
from django.contrib.auth.tokens import default_token_generator
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode

from accounts import services
from accounts.consumers import CLOSE_RECONNECT, CLOSE_UNAUTHENTICATED
from config.asgi import application
from tests.factories import TEST_PASSWORD

pytestmark = pytest.mark.django_db(transaction=True)


async def open_socket(raw: str) -> WebsocketCommunicator:
    sock = WebsocketCommunicator(
        application,
        "/ws/",
        headers=[(b"origin", b"http://127.0.0.1"), (b"authorization", f"Bearer {raw}".encode())],
    )
    connected, _ = await sock.connect(timeout=5)
    assert connected
    return sock


async def signed_in(sock: WebsocketCommunicator) -> bool:
    """Answers a ping (signed in) or is closed with 4401 (refused)."""
    await sock.send_json_to({"type": "ping"})
    answer = await sock.receive_output(timeout=3)
    if answer["type"] == "websocket.close":
        assert answer["code"] == CLOSE_UNAUTHENTICATED
        return False
    return True


async def test_a_password_change_closes_the_users_sockets_and_only_the_kept_token_gets_back_in(
    asker,
):
    # given a socket open with the token an app changes the password with, and one with another
    kept, kept_raw = await sync_to_async(services.token_issue)(user=asker)
    _other, other_raw = await sync_to_async(services.token_issue)(user=asker)
    kept_sock, other_sock = await open_socket(kept_raw), await open_socket(other_raw)
    # when the password changes through the API with the first token
    await sync_to_async(services.user_password_change)(
        user=asker,
        current_password=TEST_PASSWORD,
        new_password="Lawline-new-pass-2026",
        address="127.0.0.1",
        keep_token_id=kept.pk,
    )
    # then both sockets are told to reconnect
    for sock in (kept_sock, other_sock):
        assert await sock.receive_output(timeout=3) == {
            "type": "websocket.close",
            "code": CLOSE_RECONNECT,
        }
        await sock.disconnect()
    # and the kept token is let back in, the revoked one refused
    again = await open_socket(kept_raw)
    assert await signed_in(again)
    await again.disconnect()
    refused = await open_socket(other_raw)
    assert not await signed_in(refused)
    await refused.disconnect()


async def test_a_revoked_token_closes_its_socket_and_cannot_reconnect(asker):
    token, raw = await sync_to_async(services.token_issue)(user=asker)
    sock = await open_socket(raw)
    await sync_to_async(services.token_revoke)(user=asker, token_id=token.pk)
    assert (await sock.receive_output(timeout=3))["code"] == CLOSE_RECONNECT
    await sock.disconnect()
    again = await open_socket(raw)
    assert not await signed_in(again)
    await again.disconnect()


async def test_a_closed_account_loses_its_sockets_for_good(lawyer):
    _token, raw = await sync_to_async(services.token_issue)(user=lawyer)
    sock = await open_socket(raw)
    await sync_to_async(services.user_delete)(
        user=lawyer, password=TEST_PASSWORD, confirmed=True, address="127.0.0.1"
    )
    assert (await sock.receive_output(timeout=3))["code"] == CLOSE_RECONNECT
    await sock.disconnect()
    again = await open_socket(raw)
    assert not await signed_in(again)
    await again.disconnect()


async def test_a_password_reset_by_link_closes_the_users_sockets(asker):
    # given a socket open with an API token
    _token, raw = await sync_to_async(services.token_issue)(user=asker)
    sock = await open_socket(raw)
    # when the password is set through a reset link
    await sync_to_async(services.password_reset_confirm)(
        uidb64=urlsafe_base64_encode(force_bytes(asker.pk)),
        token=await sync_to_async(default_token_generator.make_token)(asker),
        new_password="Lawline-reset-2026",
    )
    # then the socket is told to reconnect, and its token (revoked by the reset) is refused
    assert await sock.receive_output(timeout=3) == {
        "type": "websocket.close",
        "code": CLOSE_RECONNECT,
    }
    await sock.disconnect()
    again = await open_socket(raw)
    assert not await signed_in(again)
    await again.disconnect()


async def test_a_closed_lawyer_account_stops_counting_online_at_once():
    # given a verified lawyer online on a socket
    from marketplace import presence
    from tests.factories import LawyerProfileFactory

    profile = await sync_to_async(LawyerProfileFactory)()
    _token, raw = await sync_to_async(services.token_issue)(user=profile.user)
    sock = await open_socket(raw)
    await sock.send_json_to({"type": "presence", "status": "online"})
    await sock.send_json_to({"type": "ping"})
    assert await sock.receive_json_from(timeout=3) == {"type": "pong"}
    assert await sync_to_async(presence.lawyers_online)() == 1
    # when the lawyer closes the account (the socket has not gone yet)
    await sync_to_async(services.user_delete)(
        user=profile.user, password=TEST_PASSWORD, confirmed=True, address="127.0.0.1"
    )
    # then the lawyer no longer counts, and a heartbeat the socket still sends is refused
    assert await sync_to_async(presence.lawyers_online)() == 0
    await sock.send_json_to({"type": "presence", "status": "online"})
    frames = [await sock.receive_output(timeout=3) for _ in range(2)]
    assert {"type": "websocket.close", "code": CLOSE_RECONNECT} in frames
    errors = [json.loads(f["text"]) for f in frames if f["type"] == "websocket.send"]
    assert [e["code"] for e in errors] == ["lawyer_not_verified"]
    assert await sync_to_async(presence.lawyers_online)() == 0
    await sock.disconnect()
