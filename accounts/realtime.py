"""Pushing frames to users' sockets, on whichever web process they are connected.

Every socket joins its user's group; `push_to_users` publishes one frame to each user's group.
From sync code (services, Celery) it publishes through a plain Redis client in the wire format
of the pub/sub channel layer, instead of `async_to_sync(group_send)`, which builds an event
loop and a connection per call. Delivery is best effort: what must not be lost is in the
database and comes back with `resume`.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterable
from typing import Any

import redis
from channels.layers import get_channel_layer
from channels_redis.utils import _consistent_hash, decode_hosts
from django.db import transaction

logger = logging.getLogger(__name__)


def user_group(user_id: int) -> str:
    return f"user.{user_id}"


def user_sockets_key(user_id: int) -> str:
    """The user's open sockets on every web process: a Redis sorted set of channel names, each
    scored with until when it counts. The one count of a user's sockets: messaging's peer
    presence keeps it (opened, refreshed by each web process, closed) and reads it for "is the
    other party connected"; marketplace presence reads it for "was that the lawyer's last
    socket". A socket of a web process that died stops counting after
    MESSAGING_PRESENCE_TTL_SECONDS."""
    from config.redis_connections import key

    return key("msg-sockets", user_id)


def _layer_event(frame: dict[str, Any]) -> dict[str, Any]:
    return {"type": "client.frame", "frame": frame}


class SyncLayerPublisher:
    """PUBLISH onto the pub/sub layer's group channels from synchronous code."""

    def __init__(self) -> None:
        self.layer = get_channel_layer()
        config = self.layer._kwargs  # hosts and prefix as configured in CHANNEL_LAYERS
        self.prefix = config.get("prefix", "asgi")
        self.clients = [
            redis.Redis.from_url(host["address"], socket_timeout=5, socket_connect_timeout=2)
            for host in decode_hosts(config.get("hosts"))
        ]

    def publish(self, user_ids: Iterable[int], frame: dict[str, Any]) -> None:
        self.publish_many([(user_ids, frame)])

    def publish_many(self, pushes: Iterable[tuple[Iterable[int], dict[str, Any]]]) -> None:
        """Every frame to its users in one pipeline per Redis shard, in the order given."""
        self.publish_events((user_ids, _layer_event(frame)) for user_ids, frame in pushes)

    def publish_events(self, pushes: Iterable[tuple[Iterable[int], dict[str, Any]]]) -> None:
        """Layer events (`{"type": "client.frame", ...}`: a consumer handler) to users' groups."""
        pipes: dict[int, Any] = {}
        for user_ids, event in pushes:
            payload = self.layer.serialize(event)
            for user_id in user_ids:
                channel = f"{self.prefix}__group__{user_group(user_id)}"
                shard = _consistent_hash(channel, len(self.clients))
                if shard not in pipes:
                    pipes[shard] = self.clients[shard].pipeline(transaction=False)
                pipes[shard].publish(channel, payload)
        for pipe in pipes.values():
            pipe.execute()


_publisher_lock = threading.Lock()
_publisher: SyncLayerPublisher | None = None


def _get_publisher() -> SyncLayerPublisher:
    global _publisher
    if _publisher is None:
        with _publisher_lock:
            if _publisher is None:
                _publisher = SyncLayerPublisher()
    return _publisher


def reset_publisher() -> None:
    global _publisher
    _publisher = None


def push_to_users(user_ids: Iterable[int], frame: dict[str, Any]) -> None:
    """Publish now. Logs nothing of the frame: it may carry message text."""
    push_many([(user_ids, frame)])


def push_many(pushes: Iterable[tuple[Iterable[int], dict[str, Any]]]) -> None:
    """Publish several frames now, each to its users, in one Redis round trip (per shard)."""
    batch = [(ids, frame) for user_ids, frame in pushes if (ids := list(dict.fromkeys(user_ids)))]
    if not batch:
        return

    def failure() -> str:
        kinds = ",".join(sorted({str(frame.get("type")) for _, frame in batch}))
        return f"push of {kinds} frames failed"

    _publish(lambda publisher: publisher.publish_many(batch), failure)


def _publish(send: Callable[[SyncLayerPublisher], None], failure: Callable[[], str]) -> None:
    """Send through the process's publisher, once more on a fresh one if Redis failed; a second
    failure is logged (`failure()` says what was lost) and dropped: every push is best effort."""
    for attempt in (1, 2):
        try:
            send(_get_publisher())
            return
        except redis.RedisError as exc:
            reset_publisher()
            if attempt == 2:
                logger.warning("%s: %s", failure(), type(exc).__name__)


def push_to_staff(frame: dict[str, Any]) -> None:
    """Publish now to every active staff member's sockets (staff are few: one query)."""
    from django.db.models import Q

    from accounts.models import User

    staff = User.objects.filter(Q(is_staff=True) | Q(role=User.Role.STAFF), is_active=True)
    push_to_users(staff.values_list("pk", flat=True), frame)


def push_to_users_on_commit(user_ids: Iterable[int], frame: dict[str, Any]) -> None:
    ids = list(user_ids)
    transaction.on_commit(lambda: push_to_users(ids, frame))


def push_many_on_commit(pushes: Iterable[tuple[Iterable[int], dict[str, Any]]]) -> None:
    batch = [(list(ids), frame) for ids, frame in pushes]
    if batch:
        transaction.on_commit(lambda: push_many(batch))


def sockets_reconnect(user_ids: Iterable[int]) -> None:
    """Close every socket of these users now with CLOSE_RECONNECT: a client reconnects with the
    cookie or token it holds, and is refused (4401) if that no longer signs in. For changes of
    credentials (a password changed, a token revoked, an account closed), which sockets opened
    earlier would otherwise outlive. Best effort, like every push."""
    ids = list(dict.fromkeys(user_ids))
    if not ids:
        return
    _publish(
        lambda publisher: publisher.publish_events([(ids, {"type": "client.reconnect"})]),
        lambda: "sockets not told to reconnect",
    )


def sockets_reconnect_on_commit(user_ids: Iterable[int]) -> None:
    ids = list(user_ids)
    transaction.on_commit(lambda: sockets_reconnect(ids))


async def apush_to_users(user_ids: Iterable[int], frame: dict[str, Any]) -> None:
    layer = get_channel_layer()
    event = _layer_event(frame)
    for user_id in dict.fromkeys(user_ids):
        await layer.group_send(user_group(user_id), event)
