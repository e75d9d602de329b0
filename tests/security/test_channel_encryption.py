"""Message text crosses Redis encrypted: the channel layer is configured with
`symmetric_encryption_keys`, so what is published on a user's group channel (from the socket
path and from services' sync publisher alike) carries no message text, and only a layer with the
key reads it back."""

from __future__ import annotations

import asyncio

import pytest
import redis.asyncio as aioredis
from asgiref.sync import sync_to_async
from channels.layers import get_channel_layer
from channels_redis.pubsub import RedisPubSubChannelLayer
from django.conf import settings

from accounts.realtime import push_to_users, user_group
from tests.conftest import receive_until
from tests.factories import AskerFactory, LawyerFactory
from tests.messaging.factories import direct_conversation

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)

SECRET_TEXT = "我的身份证号码是370102199001011234，电话13912345678 — secret words"


def layer_config() -> dict:
    return settings.CHANNEL_LAYERS["default"]["CONFIG"]


async def raw_subscriber(user_id: int):
    """A plain Redis client subscribed to the user's group channel, as anyone with access to
    Redis (or its network) could be."""
    config = layer_config()
    client = aioredis.Redis.from_url(config["hosts"][0]["address"])
    pubsub = client.pubsub()
    await pubsub.subscribe(f"{config['prefix']}__group__{user_group(user_id)}")
    return client, pubsub


async def published(pubsub, timeout: float = 5) -> list[bytes]:
    seen: list[bytes] = []
    deadline = asyncio.get_running_loop().time() + timeout
    while asyncio.get_running_loop().time() < deadline:
        message = await pubsub.get_message(ignore_subscribe_messages=True, timeout=0.2)
        if message is not None:
            seen.append(message["data"])
        elif seen:
            break
    return seen


def assert_opaque(payloads: list[bytes]) -> None:
    assert payloads, "nothing was published"
    for payload in payloads:
        for needle in (SECRET_TEXT, "13912345678", "370102199001011234", "secret words"):
            assert needle.encode() not in payload
            assert needle.encode("utf-16-le") not in payload


def test_the_channel_layer_is_configured_to_encrypt():
    assert layer_config()["symmetric_encryption_keys"]
    assert get_channel_layer()._serializer.crypter is not None


async def test_a_chat_message_is_published_encrypted_and_delivered_readable(ws):
    # given a conversation, the lawyer's socket, and an eavesdropper on the lawyer's channel
    asker, lawyer = await sync_to_async(AskerFactory)(), await sync_to_async(LawyerFactory)()
    conversation = (await sync_to_async(direct_conversation)(asker, lawyer)).pk
    asker_sock, lawyer_sock = await ws(asker), await ws(lawyer)
    client, pubsub = await raw_subscriber(lawyer.pk)
    # when the asker sends the text
    await asker_sock.send_json_to(
        {
            "type": "message.send",
            "conversation": conversation,
            "client_id": "s1",
            "body": SECRET_TEXT,
        }
    )
    # then the lawyer reads it, and the bytes on the wire never held it
    assert (await receive_until(lawyer_sock, "message.new"))["body"] == SECRET_TEXT
    payloads = await published(pubsub)
    assert_opaque(payloads)
    # and the key opens them: they were that very message
    layer = get_channel_layer()
    opened = [layer.deserialize(p) for p in payloads]
    assert any(m.get("frame", {}).get("body") == SECRET_TEXT for m in opened)
    # while a layer without the key cannot read them
    keyless = RedisPubSubChannelLayer(
        hosts=layer_config()["hosts"], prefix=layer_config()["prefix"]
    )
    for payload in payloads:
        try:
            garbled = keyless.deserialize(payload)
        except Exception:  # noqa: S112 - ciphertext is not msgpack: unreadable, as it should be
            continue
        assert SECRET_TEXT not in repr(garbled)
    await pubsub.aclose()
    await client.aclose()


async def test_a_frame_pushed_from_sync_code_is_published_encrypted(ws):
    # given an eavesdropper on a user's channel
    user = await sync_to_async(AskerFactory)()
    sock = await ws(user)
    client, pubsub = await raw_subscriber(user.pk)
    # when a service pushes a frame with the text (as messaging and notices do)
    await sync_to_async(push_to_users)([user.pk], {"type": "message.new", "body": SECRET_TEXT})
    # then it arrives, and the bytes on the wire never held it
    assert (await receive_until(sock, "message.new"))["body"] == SECRET_TEXT
    assert_opaque(await published(pubsub))
    await pubsub.aclose()
    await client.aclose()
