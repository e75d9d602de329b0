"""Process-wide Redis clients for presence, counters and throttles (not the channel layer,
which keeps its own pools)."""

from __future__ import annotations

import asyncio
import threading
import weakref

import redis
import redis.asyncio as aioredis
from django.conf import settings

_sync_lock = threading.Lock()
_sync_client: redis.Redis | None = None
_async_clients: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, aioredis.Redis] = (
    weakref.WeakKeyDictionary()
)


def get_redis() -> redis.Redis:
    global _sync_client
    if _sync_client is None:
        with _sync_lock:
            if _sync_client is None:
                _sync_client = redis.Redis.from_url(
                    settings.REDIS_APP_URL,
                    max_connections=500,
                    socket_connect_timeout=2,
                    socket_timeout=5,
                    health_check_interval=30,
                    retry_on_timeout=True,
                )
    return _sync_client


def get_async_redis() -> aioredis.Redis:
    """One client per event loop: asyncio connections cannot cross loops."""
    loop = asyncio.get_running_loop()
    client = _async_clients.get(loop)
    if client is None:
        # a bounded pool that waits for a free connection: a burst of sockets queues briefly
        # instead of opening connections until Redis or the OS refuses
        pool = aioredis.BlockingConnectionPool.from_url(
            settings.REDIS_APP_URL,
            max_connections=settings.REDIS_ASYNC_POOL_SIZE,
            timeout=5,
            socket_connect_timeout=2,
            socket_timeout=5,
            health_check_interval=30,
        )
        client = aioredis.Redis(connection_pool=pool)
        _async_clients[loop] = client
    return client


def reset_clients() -> None:
    """Forget cached clients (tests that restart Redis)."""
    global _sync_client
    _sync_client = None
    _async_clients.clear()


def key(*parts: object) -> str:
    return settings.REDIS_KEY_PREFIX + ":".join(str(p) for p in parts)
