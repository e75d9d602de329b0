"""Running messaging's Redis Lua scripts by their SHA (EVALSHA), loaded once per client."""

from __future__ import annotations

import weakref
from collections.abc import Sequence
from typing import Any

import redis.asyncio as aioredis
from redis.commands.core import AsyncScript

_scripts: weakref.WeakKeyDictionary[aioredis.Redis, dict[str, AsyncScript]] = (
    weakref.WeakKeyDictionary()
)


async def run_script(
    client: aioredis.Redis, source: str, keys: Sequence[str], args: Sequence[Any]
) -> Any:
    registered = _scripts.setdefault(client, {})
    script = registered.get(source)
    if script is None:
        script = registered[source] = client.register_script(source)
    return await script(keys=list(keys), args=list(args))
