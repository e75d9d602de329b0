"""Many real WebSocket clients in one asyncio process, speaking the /ws/ contract of
DESIGN.md, and the users and tokens they sign in with."""

from __future__ import annotations

import asyncio
import hashlib
import json
import secrets
import time
from collections import defaultdict
from collections.abc import Callable
from typing import Any

ORIGIN = "http://127.0.0.1"


class Client:
    """One socket. Every received frame is timestamped and handed to `on_frame`; frames of
    types nobody asked about are only counted."""

    def __init__(self, user_id: int, token: str, url: str):
        self.user_id = user_id
        self.token = token
        self.url = url
        self.sock = None
        self.reader: asyncio.Task | None = None
        self.on_frame: Callable[[Client, dict[str, Any], float], None] | None = None
        self.counts: dict[str, int] = defaultdict(int)
        self.closed_code: int | None = None

    async def connect(self, timeout: float = 30) -> None:
        from websockets.asyncio.client import connect

        self.sock = await connect(
            self.url,
            origin=ORIGIN,
            additional_headers={"Authorization": f"Bearer {self.token}"},
            open_timeout=timeout,
            ping_interval=None,  # idle sockets stay idle: the server's memory is measured
            max_queue=None,
            compression=None,
        )
        self.reader = asyncio.create_task(self._read())

    async def _read(self) -> None:
        try:
            async for raw in self.sock:
                now = time.perf_counter()
                frame = json.loads(raw)
                self.counts[frame.get("type", "?")] += 1
                if self.on_frame is not None:
                    self.on_frame(self, frame, now)
        except Exception:  # noqa: S110 - a dropped socket is counted by the caller
            pass
        finally:
            self.closed_code = getattr(self.sock, "close_code", None) or -1

    async def send(self, frame: dict[str, Any]) -> None:
        await self.sock.send(json.dumps(frame, separators=(",", ":")))

    async def close(self) -> None:
        if self.sock is not None:
            try:
                await asyncio.wait_for(self.sock.close(), 5)
            except Exception:  # noqa: S110
                pass
        if self.reader is not None:
            self.reader.cancel()


async def connect_all(clients: list[Client], concurrency: int = 50) -> tuple[int, float]:
    """Open every socket, `concurrency` handshakes at a time. Returns (failures, seconds)."""
    gate = asyncio.Semaphore(concurrency)
    failures = 0

    async def one(client: Client) -> None:
        nonlocal failures
        async with gate:
            try:
                await client.connect()
            except Exception:
                failures += 1

    started = time.monotonic()
    await asyncio.gather(*(one(c) for c in clients))
    return failures, time.monotonic() - started


async def close_all(clients: list[Client], concurrency: int = 200) -> None:
    gate = asyncio.Semaphore(concurrency)

    async def one(client: Client) -> None:
        async with gate:
            await client.close()

    await asyncio.gather(*(one(c) for c in clients))


def issue_tokens(user_ids: list[int]) -> dict[int, str]:
    """Bearer tokens for many users in one INSERT (accounts' own token format and hash)."""
    from accounts.models import ApiToken
    from accounts.services import hash_token

    raw_by_user = {uid: "ll_" + secrets.token_urlsafe(32) for uid in user_ids}
    ApiToken.objects.bulk_create(
        [
            ApiToken(user_id=uid, key_hash=hash_token(raw), prefix=raw[3:11], name="bench")
            for uid, raw in raw_by_user.items()
        ],
        batch_size=2000,
    )
    return raw_by_user


def create_users(prefix: str, count: int, role: str) -> list[int]:
    """`count` users named <prefix>00001.. (created once; a second run reuses them)."""
    from accounts.models import User

    names = [f"{prefix}{i:05d}" for i in range(1, count + 1)]
    existing = set(User.objects.filter(username__in=names).values_list("username", flat=True))
    password = "!" + hashlib.sha256(prefix.encode()).hexdigest()  # unusable: no login
    User.objects.bulk_create(
        [User(username=n, role=role, password=password) for n in names if n not in existing],
        batch_size=2000,
    )
    ids = dict(User.objects.filter(username__in=names).values_list("username", "id"))
    return [ids[n] for n in names]
