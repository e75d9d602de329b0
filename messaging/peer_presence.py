"""Whether the other party of a conversation is connected, told as `presence` frames
(`{"type": "presence", "user": id, "status": "online"|"offline"}`) when someone's first socket
opens or their last one closes, on any web process, and when two people who are already
connected get a conversation together (a consult matched).

Each user's open sockets are a Redis sorted set (`accounts.realtime.user_sockets_key`, also
what marketplace presence reads to know a lawyer's last socket closed): member = the socket's
channel name, score = until when it counts (now + TTL). Every web process refreshes its own sockets' scores in one
pipeline per interval, so the sockets of a process that died stop counting after the TTL
instead of keeping their users online forever. Opening and closing run as scripts: the count
they return is exact even when two sockets of one user open or close at once.
"""

from __future__ import annotations

import asyncio
import logging
import time
from typing import TYPE_CHECKING

import redis
from channels.db import DatabaseSyncToAsync
from django.conf import settings

from accounts.realtime import apush_to_users, push_many, user_sockets_key
from config.redis_connections import get_async_redis, get_redis
from messaging import events, selectors
from messaging.lua import run_script

if TYPE_CHECKING:
    from accounts.consumers import ClientConsumer

logger = logging.getLogger(__name__)

REDIS_ERRORS = (redis.RedisError, OSError)

# KEYS[1] the user's sockets; ARGV now, expiry, channel name, key TTL (s) → sockets counted
SOCKET_OPENED = """
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', ARGV[1])
redis.call('ZADD', KEYS[1], ARGV[2], ARGV[3])
redis.call('EXPIRE', KEYS[1], ARGV[4])
return redis.call('ZCARD', KEYS[1])
"""
# KEYS[1] the user's sockets; ARGV now, channel name → {removed?, sockets left}
SOCKET_CLOSED = """
local removed = redis.call('ZREM', KEYS[1], ARGV[2])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', ARGV[1])
return {removed, redis.call('ZCARD', KEYS[1])}
"""


class ProcessSockets:
    """This process's (this event loop's) open sockets, and the task refreshing them: which
    entries of the shared count this process keeps alive, not a second count of them."""

    def __init__(self) -> None:
        self.sockets: dict[str, int] = {}  # channel name → user id
        self.task: asyncio.Task[None] | None = None

    def add(self, channel_name: str, user_id: int) -> None:
        self.sockets[channel_name] = user_id
        if self.task is None or self.task.done():
            self.task = asyncio.get_running_loop().create_task(self.refresh_forever())

    def discard(self, channel_name: str) -> None:
        self.sockets.pop(channel_name, None)
        if not self.sockets and self.task is not None:
            self.task.cancel()
            self.task = None

    async def refresh_forever(self) -> None:
        while self.sockets:
            await asyncio.sleep(settings.MESSAGING_PRESENCE_REFRESH_SECONDS)
            try:
                await self.refresh()
            except REDIS_ERRORS as exc:
                logger.warning("peer presence refresh failed: %s", type(exc).__name__)

    async def refresh(self) -> None:
        ttl = settings.MESSAGING_PRESENCE_TTL_SECONDS
        expiry = time.time() + ttl
        items = list(self.sockets.items())
        client = get_async_redis()
        for start in range(0, len(items), 1000):
            pipe = client.pipeline(transaction=False)
            for channel_name, user_id in items[start : start + 1000]:
                pipe.zadd(user_sockets_key(user_id), {channel_name: expiry})
                pipe.expire(user_sockets_key(user_id), ttl)
            await pipe.execute()


_process_sockets: dict[asyncio.AbstractEventLoop, ProcessSockets] = {}


def process_sockets() -> ProcessSockets:
    loop = asyncio.get_running_loop()
    registry = _process_sockets.get(loop)
    if registry is None:
        for stale in [other for other in _process_sockets if other.is_closed()]:
            del _process_sockets[stale]
        registry = _process_sockets[loop] = ProcessSockets()
    return registry


def _count_sockets(pipe, user_ids: list[int]) -> None:
    """Queue, on a sync or an async pipeline, the count of each user's live sockets."""
    now = time.time()
    for user_id in user_ids:
        pipe.zcount(user_sockets_key(user_id), now, "+inf")


async def online_among(user_ids: list[int]) -> list[int]:
    if not user_ids:
        return []
    pipe = get_async_redis().pipeline(transaction=False)
    _count_sockets(pipe, user_ids)
    counts = await pipe.execute()
    return [user_id for user_id, count in zip(user_ids, counts, strict=True) if count]


def introduce(user_ids: list[int]) -> None:
    """People who just got a conversation together learn which of the others is online (their
    sockets opened before they were peers, so nobody told them). After commit; best effort."""
    try:
        pipe = get_redis().pipeline(transaction=False)
        _count_sockets(pipe, user_ids)
        counts = pipe.execute()
        online = [user_id for user_id, count in zip(user_ids, counts, strict=True) if count]
        push_many(
            ([user_id], events.presence(user_id=peer, status="online"))
            for user_id in online
            for peer in online
            if peer != user_id
        )
    except REDIS_ERRORS as exc:
        logger.warning("peer presence for a new conversation skipped: %s", type(exc).__name__)


_presence_peers = DatabaseSyncToAsync(selectors.presence_peers, thread_sensitive=False)


async def socket_opened(consumer: ClientConsumer) -> None:
    """Count the socket; show the client which of its peers are online; if this is the user's
    first socket, tell those peers the user came online."""
    user_id = consumer.user_id
    assert user_id is not None
    process_sockets().add(consumer.channel_name, user_id)
    ttl = settings.MESSAGING_PRESENCE_TTL_SECONDS
    now = time.time()
    try:
        count = await run_script(
            get_async_redis(),
            SOCKET_OPENED,
            [user_sockets_key(user_id)],
            [now, now + ttl, consumer.channel_name, ttl],
        )
        peers = await _presence_peers(user_id=user_id)
        online = await online_among(peers)
    except REDIS_ERRORS as exc:
        logger.warning("peer presence on connect skipped: %s", type(exc).__name__)
        return
    for peer in online:
        await consumer.send_frame(events.presence(user_id=peer, status="online"))
    if int(count) == 1 and online:
        await apush_to_users(online, events.presence(user_id=user_id, status="online"))


async def socket_closed(consumer: ClientConsumer) -> None:
    """Forget the socket; if it was the user's last one, tell their online peers."""
    user_id = consumer.user_id
    assert user_id is not None
    process_sockets().discard(consumer.channel_name)
    try:
        removed, left = await run_script(
            get_async_redis(),
            SOCKET_CLOSED,
            [user_sockets_key(user_id)],
            [time.time(), consumer.channel_name],
        )
        if not removed or int(left) > 0:
            return
        peers = await _presence_peers(user_id=user_id)
        online = await online_among(peers)
        if online:
            await apush_to_users(online, events.presence(user_id=user_id, status="offline"))
    except REDIS_ERRORS as exc:
        logger.warning("peer presence on disconnect skipped: %s", type(exc).__name__)
