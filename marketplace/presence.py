"""Which lawyers are online, in Redis only (DESIGN.md, flow 4).

A lawyer socket's `presence` frame (online/away) is also its heartbeat. A lawyer's first
heartbeat in a process, or one that changes status or home, or finds the lawyer gone from the
sets, writes in one pipelined round trip the lawyer into the sorted sets of its home city, its
province and the nation (score = last seen, epoch seconds), the away set, and the `home` hash
that says which sets hold it; every other heartbeat is just the three ZADDs, which only refresh
a lawyer already there. A lawyer is online while its score is newer than
PRESENCE_TIMEOUT_SECONDS, so a count is one ZCOUNT and never a table scan; beat reaps stale
members, the last socket's close removes the lawyer at once (the user's sockets are counted
once, by messaging: `accounts.realtime.user_sockets_key`), and so does losing verification or
the account (`remove`). `away` counts as online in the figures but gets no offers. Who serves
which region is not here: matching filters that in SQL.
"""

from __future__ import annotations

import asyncio
import logging
import time
import weakref
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from functools import lru_cache
from typing import Literal

from django.conf import settings
from django.db import transaction
from redis.exceptions import RedisError

from accounts.realtime import user_sockets_key
from config.redis_connections import get_async_redis, get_redis, key

logger = logging.getLogger(__name__)

NATION = "100000"
ONLINE = "online"
AWAY = "away"
OFFLINE = "offline"
Status = Literal["online", "away"]

# Take a lawyer out of every set that holds them: their home city's and province's (from the
# home hash), the nation's, the away set. The scripts below start with it.
# forget(id, home hash, nation set, away set, region set key prefix)
_FORGET_FUNCTION = """
local function forget(id, home_key, nation_key, away_key, prefix)
  local home = redis.call('HGET', home_key, id)
  if home then
    local sep = string.find(home, ':', 1, true)
    redis.call('ZREM', prefix .. string.sub(home, 1, sep - 1), id)
    redis.call('ZREM', prefix .. string.sub(home, sep + 1), id)
    redis.call('HDEL', home_key, id)
  end
  redis.call('ZREM', nation_key, id)
  redis.call('SREM', away_key, id)
end
"""

# A lawyer socket closed: if no other socket of the lawyer counts (the user's sockets sorted set,
# `accounts.realtime.user_sockets_key`, the closing one left out whether or not messaging has
# taken it out yet), forget the lawyer everywhere, in the same atomic step.
# KEYS: the user's sockets, home hash, nation set, away set;
# ARGV: now, the closing socket's channel name, lawyer id, region set key prefix
_SOCKET_CLOSED = (
    _FORGET_FUNCTION
    + """
local left = redis.call('ZCOUNT', KEYS[1], ARGV[1], '+inf')
local own = redis.call('ZSCORE', KEYS[1], ARGV[2])
if own and tonumber(own) >= tonumber(ARGV[1]) then left = left - 1 end
if left > 0 then return 0 end
forget(ARGV[3], KEYS[2], KEYS[3], KEYS[4], ARGV[4])
return 1
"""
)

# Remove lawyers not heard from since the cutoff (re-checked inside the script, so a heartbeat
# that lands while the reaper runs is never undone).
# KEYS: nation set, away set, home hash; ARGV: cutoff, region set key prefix, limit
_REAP = (
    _FORGET_FUNCTION
    + """
local stale = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', '(' .. ARGV[1], 'LIMIT', 0, ARGV[3])
for _, id in ipairs(stale) do
  forget(id, KEYS[3], KEYS[1], KEYS[2], ARGV[2])
end
return stale
"""
)

# A lawyer who may no longer be online (no longer verified, account closed), whatever their
# sockets say. KEYS: home hash, nation set, away set; ARGV: lawyer id, region set key prefix
_REMOVE = (
    _FORGET_FUNCTION
    + """
forget(ARGV[1], KEYS[1], KEYS[2], KEYS[3], ARGV[2])
return 1
"""
)


@dataclass(frozen=True)
class Home:
    city: str
    province: str

    @property
    def packed(self) -> str:
        return f"{self.city}:{self.province}"


def region_set(code: str) -> str:
    return key("presence", "z", code)


def _set_prefix() -> str:
    return key("presence", "z", "")


def _away_key() -> str:
    return key("presence", "away")


def _home_key() -> str:
    return key("presence", "home")


def _waiting_key() -> str:
    return key("matching", "waiting")


def _cutoff(now: float) -> float:
    return now - settings.PRESENCE_TIMEOUT_SECONDS


# --- writes (from the socket, async) ---------------------------------------------------------

# Heartbeats share a few connections per process: when every lawyer reconnects at once (a
# restart), hundreds of simultaneous commands would otherwise each open a Redis connection
# and some would time out connecting (measured in `make bench`); queued here they take
# a fraction of a millisecond each.
REDIS_CONCURRENCY = 32
_limits: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, asyncio.Semaphore] = (
    weakref.WeakKeyDictionary()
)


def _limit() -> asyncio.Semaphore:
    loop = asyncio.get_running_loop()
    limit = _limits.get(loop)
    if limit is None:
        limit = _limits[loop] = asyncio.Semaphore(REDIS_CONCURRENCY)
    return limit


@dataclass(frozen=True)
class _Beat:
    home: str
    status: str
    at: float


# The last heartbeat this process stored for each lawyer. A repeat of it (same home, same
# status, within the timeout) only needs the three ZADDs; anything else takes the full path.
_last_beats: dict[int, _Beat] = {}


async def heartbeat(
    lawyer_id: int,
    *,
    home: Home,
    status: Status,
    now: float | None = None,
    current_home: Callable[[], Awaitable[Home]] | None = None,
) -> bool:
    """Record a heartbeat. True when the lawyer has just become available for offers (was
    offline or away, is now online) and consults may be waiting: the caller then matches
    waiting consults for this lawyer. (After a restart every lawyer reconnects at once; the
    waiting hint keeps that from flooding the matching queue when nothing waits.)

    The steady beat is three ZADDs in one round trip. They only refresh a lawyer already in the
    sets (XX): one who was taken out (reaped, revoked, deleted, or Redis lost its data) is put
    back only by the full beat, which first awaits `current_home` when given: the socket passes
    a fresh lookup there that raises when the lawyer may not be online (no longer verified), so
    a revoked lawyer's open socket never counts again on a home it read before."""
    now = time.time() if now is None else now
    member = str(lawyer_id)
    last = _last_beats.get(lawyer_id)
    if (
        last is not None
        and last.home == home.packed
        and last.status == status
        and now - last.at < settings.PRESENCE_TIMEOUT_SECONDS
    ):
        pipe = get_async_redis().pipeline(transaction=False)
        for code in (home.city, home.province, NATION):
            pipe.zadd(region_set(code), {member: now}, xx=True, ch=True)
        async with _limit():
            *_, refreshed = await pipe.execute()
        if refreshed:
            _last_beats[lawyer_id] = _Beat(home.packed, status, now)
            return False
    # until the full beat has stored it, nothing this process remembers of the lawyer holds
    _last_beats.pop(lawyer_id, None)
    if current_home is not None:
        home = await current_home()
    became_available = await _full_heartbeat(lawyer_id, home=home, status=status, now=now)
    _last_beats[lawyer_id] = _Beat(home.packed, status, now)
    return became_available


async def _full_heartbeat(lawyer_id: int, *, home: Home, status: Status, now: float) -> bool:
    member = str(lawyer_id)
    redis = get_async_redis()
    pipe = redis.pipeline(transaction=True)
    pipe.zscore(region_set(NATION), member)
    pipe.sismember(_away_key(), member)
    pipe.hget(_home_key(), member)
    for code in (home.city, home.province, NATION):
        pipe.zadd(region_set(code), {member: now})
    if status == AWAY:
        pipe.sadd(_away_key(), member)
    else:
        pipe.srem(_away_key(), member)
    pipe.hset(_home_key(), member, home.packed)
    pipe.get(_waiting_key())
    async with _limit():
        previous_seen, was_away, old_home, *_, waiting = await pipe.execute()
    if old_home is not None and old_home.decode() != home.packed:
        # the lawyer moved city since the last heartbeat (a profile edit): leave the old sets
        old_city, _, old_province = old_home.decode().partition(":")
        stale = [c for c in (old_city, old_province) if c not in (home.city, home.province)]
        if stale:
            cleanup = redis.pipeline(transaction=False)
            for code in stale:
                cleanup.zrem(region_set(code), member)
            async with _limit():
                await cleanup.execute()
    was_available = (
        previous_seen is not None and previous_seen >= _cutoff(now) and not bool(was_away)
    )
    # no hint yet (a fresh Redis): nothing is known to wait; the first queued consult sets it,
    # and beat's sweep keeps it true
    may_wait = waiting is not None and int(waiting) > 0
    return status == ONLINE and not was_available and may_wait


async def socket_closed(lawyer_id: int, *, channel_name: str) -> bool:
    """A socket of the lawyer closed; if none of the lawyer's other sockets counts, the lawyer
    goes offline at once (True). The sockets are messaging's count of every user's sockets
    (`accounts.realtime.user_sockets_key`), not a second counter of lawyers' own."""
    _last_beats.pop(lawyer_id, None)  # the next beat of a remaining socket takes the full path
    redis = get_async_redis()
    script = redis.register_script(_SOCKET_CLOSED)
    async with _limit():
        went_offline = await script(
            keys=[user_sockets_key(lawyer_id), _home_key(), region_set(NATION), _away_key()],
            args=[time.time(), channel_name, lawyer_id, _set_prefix()],
        )
    return bool(went_offline)


def reap(*, now: float | None = None, limit: int = 5000) -> list[int]:
    """Take offline every lawyer whose last heartbeat is older than the timeout (beat)."""
    now = time.time() if now is None else now
    redis = get_redis()
    script = redis.register_script(_REAP)
    stale = script(
        keys=[region_set(NATION), _away_key(), _home_key()],
        args=[_cutoff(now), _set_prefix(), limit],
    )
    return [int(member) for member in stale]


def remove(lawyer_id: int) -> None:
    """Take a lawyer who may no longer be online (no longer verified, account closed) out of
    every count now, in one round trip; their open sockets' heartbeats do not put them back
    (`heartbeat`, the socket's fresh lookup). Best effort: if Redis fails, the reaper takes
    them out after PRESENCE_TIMEOUT_SECONDS, their heartbeats being refused meanwhile."""
    redis = get_redis()
    try:
        redis.register_script(_REMOVE)(
            keys=[_home_key(), region_set(NATION), _away_key()], args=[lawyer_id, _set_prefix()]
        )
    except RedisError as exc:
        logger.warning("presence of lawyer %s not removed: %s", lawyer_id, type(exc).__name__)


def remove_on_commit(lawyer_id: int) -> None:
    transaction.on_commit(lambda: remove(lawyer_id))


def note_waiting() -> None:
    """A consult just entered `queued`: lawyers coming online should look for it. Best effort
    (beat's matching sweep resets the hint to the true count every few seconds)."""
    try:
        get_redis().incr(_waiting_key())
    except RedisError as exc:
        logger.warning("waiting hint not set: %s", type(exc).__name__)


def set_waiting(count: int) -> None:
    """The number of queued consults, from beat's matching sweep."""
    get_redis().set(_waiting_key(), count)


# --- reads (sync: matching, API, dashboard) ---------------------------------------------------


def available_among(lawyer_ids: Iterable[int], *, now: float | None = None) -> set[int]:
    """Those of `lawyer_ids` who are online and not away. One round trip."""
    ids = list(lawyer_ids)
    if not ids:
        return set()
    cutoff = _cutoff(time.time() if now is None else now)
    pipe = get_redis().pipeline(transaction=False)
    members = [str(i) for i in ids]
    pipe.zmscore(region_set(NATION), members)
    pipe.smismember(_away_key(), members)
    scores, away = pipe.execute()
    return {
        lawyer_id
        for lawyer_id, seen, is_away in zip(ids, scores, away, strict=True)
        if seen is not None and seen >= cutoff and not is_away
    }


def available_lawyer_ids(*, now: float | None = None) -> set[int]:
    """Every lawyer online and not away, nationwide. One round trip."""
    cutoff = _cutoff(time.time() if now is None else now)
    pipe = get_redis().pipeline(transaction=False)
    pipe.zrangebyscore(region_set(NATION), cutoff, "+inf")
    pipe.smembers(_away_key())
    online, away = pipe.execute()
    return {int(m) for m in online} - {int(m) for m in away}


def statuses(lawyer_ids: Iterable[int], *, now: float | None = None) -> dict[int, str]:
    """online / away / offline for each lawyer. One round trip."""
    ids = list(lawyer_ids)
    if not ids:
        return {}
    cutoff = _cutoff(time.time() if now is None else now)
    pipe = get_redis().pipeline(transaction=False)
    members = [str(i) for i in ids]
    pipe.zmscore(region_set(NATION), members)
    pipe.smismember(_away_key(), members)
    scores, away = pipe.execute()
    result = {}
    for lawyer_id, seen, is_away in zip(ids, scores, away, strict=True):
        if seen is None or seen < cutoff:
            result[lawyer_id] = OFFLINE
        else:
            result[lawyer_id] = AWAY if is_away else ONLINE
    return result


def online_counts(region_codes: Iterable[str], *, now: float | None = None) -> dict[str, int]:
    """Lawyers online (away included) whose home is in each region (city, province, or
    "100000" for the nation). One round trip, whatever the number of regions."""
    codes = list(dict.fromkeys(region_codes))
    if not codes:
        return {}
    cutoff = _cutoff(time.time() if now is None else now)
    pipe = get_redis().pipeline(transaction=False)
    for code in codes:
        pipe.zcount(region_set(code), cutoff, "+inf")
    return dict(zip(codes, (int(n) for n in pipe.execute()), strict=True))


def lawyers_online(*, now: float | None = None) -> int:
    """The public counter: lawyers online now, nationwide."""
    return online_counts([NATION], now=now)[NATION]


@lru_cache(maxsize=1)
def _region_codes() -> tuple[tuple[str, ...], tuple[str, ...]]:
    from marketplace.models import Region

    provinces = tuple(
        Region.objects.filter(level=Region.Level.PROVINCE).values_list("code", flat=True)
    )
    cities = tuple(Region.objects.filter(level=Region.Level.CITY).values_list("code", flat=True))
    return provinces, cities


@dataclass(frozen=True)
class OnlineByRegion:
    total: int
    away: int
    provinces: dict[str, int]  # only regions with someone online
    cities: dict[str, int]


def online_by_region(*, now: float | None = None) -> OnlineByRegion:
    """The admin dashboard's map: lawyers online per province and per city. One round trip."""
    provinces, cities = _region_codes()
    cutoff = _cutoff(time.time() if now is None else now)
    pipe = get_redis().pipeline(transaction=False)
    pipe.zcount(region_set(NATION), cutoff, "+inf")
    pipe.zrangebyscore(region_set(NATION), cutoff, "+inf")
    pipe.smembers(_away_key())
    for code in (*provinces, *cities):
        pipe.zcount(region_set(code), cutoff, "+inf")
    total, online_ids, away_ids, *counts = pipe.execute()
    by_code = dict(zip((*provinces, *cities), (int(n) for n in counts), strict=True))
    return OnlineByRegion(
        total=int(total),
        away=len(set(online_ids) & set(away_ids)),
        provinces={code: by_code[code] for code in provinces if by_code[code]},
        cities={code: by_code[code] for code in cities if by_code[code]},
    )
