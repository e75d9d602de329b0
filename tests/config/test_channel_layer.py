"""The channel layer's seal: what crosses Redis is AES-GCM-SIV ciphertext that only a
configured key opens; keys rotate as channels-redis' Fernet keys do."""

import pytest
from channels_redis.serializers import MsgPackSerializer

from config.channel_layer import SealedMsgPackSerializer, SealError

EVENT = {"type": "client.frame", "frame": {"type": "message.new", "body": "我的电话13912345678"}}


def test_a_sealed_event_opens_to_the_same_event_and_hides_its_text():
    serializer = SealedMsgPackSerializer(symmetric_encryption_keys=["k1"])
    sealed = serializer.serialize(EVENT)
    assert b"13912345678" not in sealed
    assert serializer.deserialize(sealed) == EVENT


def test_the_same_event_sealed_twice_differs():
    serializer = SealedMsgPackSerializer(symmetric_encryption_keys=["k1"])
    assert serializer.serialize(EVENT) != serializer.serialize(EVENT)


def test_an_event_sealed_with_the_old_key_still_opens_after_rotation():
    old = SealedMsgPackSerializer(symmetric_encryption_keys=["k1"])
    rotated = SealedMsgPackSerializer(symmetric_encryption_keys=["k2", "k1"])
    assert rotated.deserialize(old.serialize(EVENT)) == EVENT
    # and the new key seals: a process still on the old key alone cannot open it
    with pytest.raises(SealError):
        old.deserialize(rotated.serialize(EVENT))


def test_a_tampered_event_is_refused():
    serializer = SealedMsgPackSerializer(symmetric_encryption_keys=["k1"])
    sealed = bytearray(serializer.serialize(EVENT))
    sealed[-1] ^= 1
    with pytest.raises(SealError):
        serializer.deserialize(bytes(sealed))


def test_an_event_in_another_format_is_refused():
    serializer = SealedMsgPackSerializer(symmetric_encryption_keys=["k1"])
    fernet = MsgPackSerializer(symmetric_encryption_keys=["k1"])
    with pytest.raises(SealError):
        serializer.deserialize(fernet.serialize(EVENT))


def test_without_keys_events_are_plain_msgpack():
    serializer = SealedMsgPackSerializer(symmetric_encryption_keys=None)
    assert serializer.crypter is None
    assert serializer.deserialize(serializer.serialize(EVENT)) == EVENT
