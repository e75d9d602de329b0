"""marketplace.presence: who is online, in Redis only."""

from __future__ import annotations

import asyncio
import time

import pytest
import redis
from asgiref.sync import async_to_sync

from accounts.realtime import user_sockets_key
from marketplace import errors, presence
from tests.marketplace.conftest import home_of, put_online

pytestmark = pytest.mark.django_db

JINAN, QINGDAO, SHANDONG, BEIJING = "370100", "370200", "370000", "110100"


@pytest.fixture
def jinan_lawyer(make_lawyer):
    return make_lawyer(home=JINAN, online=False)


def test_heartbeat_counts_the_lawyer_in_city_province_and_nation(jinan_lawyer):
    # when
    put_online(jinan_lawyer)
    # then
    counts = presence.online_counts([JINAN, SHANDONG, presence.NATION, QINGDAO, BEIJING])
    assert counts == {JINAN: 1, SHANDONG: 1, presence.NATION: 1, QINGDAO: 0, BEIJING: 0}
    assert presence.lawyers_online() == 1


def test_first_heartbeat_makes_the_lawyer_available_and_repeats_do_not(jinan_lawyer):
    presence.note_waiting()  # a consult waits

    assert put_online(jinan_lawyer) is True
    assert put_online(jinan_lawyer) is False


def test_away_counts_as_online_but_takes_no_offers(jinan_lawyer):
    # when
    became_available = put_online(jinan_lawyer, "away")
    # then
    assert became_available is False
    assert presence.lawyers_online() == 1
    assert presence.available_among([jinan_lawyer.user_id]) == set()
    assert presence.statuses([jinan_lawyer.user_id]) == {jinan_lawyer.user_id: "away"}


def test_back_from_away_is_available_again(jinan_lawyer):
    presence.note_waiting()
    put_online(jinan_lawyer, "away")

    assert put_online(jinan_lawyer, "online") is True
    assert presence.available_among([jinan_lawyer.user_id]) == {jinan_lawyer.user_id}
    assert presence.available_lawyer_ids() == {jinan_lawyer.user_id}


def test_lawyer_silent_past_the_timeout_is_offline_before_and_after_reaping(
    make_lawyer, settings, redis_client
):
    # given
    settings.PRESENCE_TIMEOUT_SECONDS = 60
    now = time.time()
    silent = make_lawyer(home=JINAN, online=False)
    fresh = make_lawyer(home=QINGDAO, online=False)
    put_online(silent, now=now - 61)
    put_online(fresh, now=now - 5)
    # then: a stale score never counts, even before the reaper runs
    assert presence.online_counts([SHANDONG], now=now) == {SHANDONG: 1}
    assert presence.statuses([silent.user_id], now=now) == {silent.user_id: "offline"}
    # when
    reaped = presence.reap(now=now)
    # then
    assert reaped == [silent.user_id]
    assert redis_client.zscore(presence.region_set(JINAN), silent.user_id) is None
    assert redis_client.zscore(presence.region_set(SHANDONG), silent.user_id) is None
    assert redis_client.hget(presence.key("presence", "home"), silent.user_id) is None
    assert presence.available_among([fresh.user_id], now=now) == {fresh.user_id}


def test_coming_back_after_the_timeout_counts_as_becoming_available(jinan_lawyer, settings):
    settings.PRESENCE_TIMEOUT_SECONDS = 60
    presence.note_waiting()
    now = time.time()
    put_online(jinan_lawyer, now=now - 120)

    assert put_online(jinan_lawyer, now=now) is True


def test_moving_city_leaves_the_old_city_set(jinan_lawyer):
    put_online(jinan_lawyer)
    jinan_lawyer.home_city_id = BEIJING
    jinan_lawyer.home_city = jinan_lawyer.home_city.__class__.objects.get(code=BEIJING)

    put_online(jinan_lawyer)

    counts = presence.online_counts([JINAN, SHANDONG, BEIJING, "110000", presence.NATION])
    assert counts == {JINAN: 0, SHANDONG: 0, BEIJING: 1, "110000": 1, presence.NATION: 1}


def open_sockets(redis_client, lawyer_id: int, *channels: str, until: float | None = None):
    """Sockets as messaging's peer presence counts them (the one count of a user's sockets)."""
    until = time.time() + 60 if until is None else until
    redis_client.zadd(user_sockets_key(lawyer_id), dict.fromkeys(channels, until))


def test_last_socket_closing_takes_the_lawyer_offline_at_once(jinan_lawyer, redis_client):
    # given two sockets
    lawyer_id = jinan_lawyer.user_id
    open_sockets(redis_client, lawyer_id, "specific.a", "specific.b")
    put_online(jinan_lawyer)
    # when the first closes (before messaging takes it out of the count) / then still online
    assert async_to_sync(presence.socket_closed)(lawyer_id, channel_name="specific.a") is False
    assert presence.lawyers_online() == 1
    # when messaging takes it out, and the second closes after messaging took it out too
    redis_client.zrem(user_sockets_key(lawyer_id), "specific.a", "specific.b")
    assert async_to_sync(presence.socket_closed)(lawyer_id, channel_name="specific.b") is True
    assert presence.online_counts([JINAN, SHANDONG, presence.NATION]) == {
        JINAN: 0,
        SHANDONG: 0,
        presence.NATION: 0,
    }


def test_a_socket_of_a_dead_process_does_not_keep_the_lawyer_online(jinan_lawyer, redis_client):
    # given a socket entry its process stopped refreshing (it died) and a live one
    lawyer_id = jinan_lawyer.user_id
    open_sockets(redis_client, lawyer_id, "specific.dead", until=time.time() - 1)
    open_sockets(redis_client, lawyer_id, "specific.live")
    put_online(jinan_lawyer)
    # when the live one closes / then the lawyer is offline at once
    assert async_to_sync(presence.socket_closed)(lawyer_id, channel_name="specific.live") is True
    assert presence.lawyers_online() == 0


def test_removing_a_lawyer_takes_them_out_of_every_count_at_once(jinan_lawyer, make_lawyer):
    # given two lawyers online in Jinan, the one to remove away
    kept = make_lawyer(home=JINAN)
    put_online(jinan_lawyer, "away")
    # when
    presence.remove(jinan_lawyer.user_id)
    # then
    counts = presence.online_counts([JINAN, SHANDONG, presence.NATION])
    assert counts == {JINAN: 1, SHANDONG: 1, presence.NATION: 1}
    assert presence.statuses([jinan_lawyer.user_id]) == {jinan_lawyer.user_id: "offline"}
    assert presence.online_by_region().away == 0
    assert presence.available_lawyer_ids() == {kept.user_id}


def test_a_steady_heartbeat_never_puts_back_a_removed_lawyer(jinan_lawyer):
    # given a lawyer whose heartbeats this process has stored, then removed (revoked)
    put_online(jinan_lawyer)
    presence.remove(jinan_lawyer.user_id)
    lookups = []

    async def refused() -> presence.Home:
        lookups.append(1)
        raise errors.LawyerNotVerified()

    # when the same heartbeat repeats, its fresh lookup refusing the lawyer
    with pytest.raises(errors.LawyerNotVerified):
        async_to_sync(presence.heartbeat)(
            jinan_lawyer.user_id, home=home_of(jinan_lawyer), status="online", current_home=refused
        )
    # then the lookup was asked, and the lawyer counts nowhere
    assert lookups == [1]
    assert presence.online_counts([JINAN, SHANDONG, presence.NATION]) == {
        JINAN: 0,
        SHANDONG: 0,
        presence.NATION: 0,
    }


def test_a_steady_heartbeat_asks_no_lookup(jinan_lawyer):
    put_online(jinan_lawyer)

    async def unexpected() -> presence.Home:
        raise AssertionError("a steady beat looked the lawyer up")

    async_to_sync(presence.heartbeat)(
        jinan_lawyer.user_id, home=home_of(jinan_lawyer), status="online", current_home=unexpected
    )
    assert presence.lawyers_online() == 1


def test_dashboard_breakdown_by_province_and_city(make_lawyer):
    make_lawyer(home=JINAN)
    make_lawyer(home=JINAN, online="away")
    make_lawyer(home=QINGDAO)
    make_lawyer(home=BEIJING)

    breakdown = presence.online_by_region()

    assert breakdown.total == 4
    assert breakdown.away == 1
    assert breakdown.provinces == {"110000": 1, SHANDONG: 3}
    assert breakdown.cities == {BEIJING: 1, JINAN: 2, QINGDAO: 1}


class RoundTrips:
    """Counts what reaches Redis: a pipeline is one round trip, a lone command another."""

    def __init__(self, monkeypatch):
        self.pipelines = 0
        self.commands = 0
        original_execute = redis.client.Pipeline.execute
        original_command = redis.Redis.execute_command

        def execute(pipe, *args, **kwargs):
            self.pipelines += 1
            return original_execute(pipe, *args, **kwargs)

        def command(client, *args, **kwargs):
            self.commands += 1
            return original_command(client, *args, **kwargs)

        monkeypatch.setattr(redis.client.Pipeline, "execute", execute)
        monkeypatch.setattr(redis.Redis, "execute_command", command)

    @property
    def total(self) -> int:
        return self.pipelines + self.commands


def test_online_counts_for_every_region_cost_one_round_trip(make_lawyer, monkeypatch):
    # given
    make_lawyer(home=JINAN)
    codes = [code for pair in presence._region_codes() for code in pair]
    trips = RoundTrips(monkeypatch)
    # when
    counts = presence.online_counts(codes)
    presence.online_by_region()
    # then
    assert len(counts) > 300 and counts[JINAN] == 1
    assert trips.total == 2


def test_available_among_costs_one_round_trip(make_lawyer, monkeypatch):
    lawyers = [make_lawyer(home=JINAN).user_id for _ in range(3)]
    trips = RoundTrips(monkeypatch)

    assert presence.available_among(lawyers) == set(lawyers)
    assert trips.total == 1


@pytest.mark.parametrize("hint", [None, 0])
def test_arrival_triggers_no_matching_when_nothing_waits(jinan_lawyer, hint):
    if hint is not None:
        presence.set_waiting(hint)

    assert put_online(jinan_lawyer) is False
    assert presence.available_among([jinan_lawyer.user_id]) == {jinan_lawyer.user_id}


def test_arrival_triggers_matching_once_a_consult_waits(jinan_lawyer, make_lawyer):
    presence.set_waiting(0)
    put_online(jinan_lawyer)

    presence.note_waiting()

    assert put_online(make_lawyer(home=JINAN, online=False)) is True


async def test_a_reconnect_storm_shares_a_few_redis_connections():
    # given: 300 lawyers' heartbeats arriving at once in one web process
    from config.redis_connections import get_async_redis

    homes = [presence.Home(JINAN, SHANDONG)] * 300
    await asyncio.to_thread(presence.set_waiting, 1)
    # when
    results = await asyncio.gather(
        *(
            presence.heartbeat(10_000 + n, home=home, status="online")
            for n, home in enumerate(homes)
        )
    )
    # then
    pool = get_async_redis().connection_pool
    opened = len(pool._available_connections) + len(pool._in_use_connections)
    assert opened <= presence.REDIS_CONCURRENCY
    assert all(results)
    assert await asyncio.to_thread(presence.lawyers_online) == 300


CONNECTION_SETUP = {"info", "client", "client|setinfo", "select", "hello", "ping"}


def _command_calls(client) -> dict[str, int]:
    stats = client.info("commandstats")
    return {
        name.removeprefix("cmdstat_"): int(value["calls"])
        for name, value in stats.items()
        if name.removeprefix("cmdstat_") not in CONNECTION_SETUP
    }


def test_steady_heartbeat_is_three_zadds_in_one_round_trip(jinan_lawyer, redis_client):
    # given a lawyer whose first heartbeat this process stored
    put_online(jinan_lawyer)
    before = _command_calls(redis_client)
    # when the same heartbeat repeats
    put_online(jinan_lawyer)
    # then only the city, province and nation ZADDs reached Redis (besides a new event loop's
    # connection setup)
    after = _command_calls(redis_client)
    assert {k: after[k] - before.get(k, 0) for k in after if after[k] != before.get(k, 0)} == {
        "zadd": 3
    }
    assert presence.online_counts([JINAN, SHANDONG, presence.NATION]) == {
        JINAN: 1,
        SHANDONG: 1,
        presence.NATION: 1,
    }


def test_steady_heartbeat_after_redis_lost_its_data_restores_away_and_arrival(
    jinan_lawyer, redis_client
):
    # given an away lawyer, then Redis forgets everything (a restart without persistence)
    presence.note_waiting()
    put_online(jinan_lawyer, "away")
    redis_client.flushdb()
    presence.note_waiting()
    # when the same away heartbeat repeats
    assert put_online(jinan_lawyer, "away") is False
    # then the lawyer is back, still away, and takes no offers
    assert presence.statuses([jinan_lawyer.user_id]) == {jinan_lawyer.user_id: "away"}
    assert presence.available_among([jinan_lawyer.user_id]) == set()
    # and going online after the loss counts as an arrival
    redis_client.flushdb()
    presence.note_waiting()
    put_online(jinan_lawyer, "online")  # full beat (status changed): available
    redis_client.flushdb()
    presence.note_waiting()
    assert put_online(jinan_lawyer, "online") is True  # steady beat found it missing


# --- GET /lawyers/available ----------------------------------------------------------------
def test_available_counts_the_lawyers_a_consult_would_reach(api, asker, make_lawyer):
    # given in Jinan one free lawyer online and one at ¥49 online
    make_lawyer(home="370100", price=0)
    make_lawyer(home="370100", price=4900)
    client = api(asker)
    # when / then
    query = "lawyers/available?city=370100&category=debt"
    assert client.get(f"{query}&price=0").json() == {"available": 1}
    assert client.get(f"{query}&price=4800").json() == {"available": 1}
    assert client.get(f"{query}&price=4900&currency=CNY").json() == {"available": 2}
    assert api(None).get(f"{query}&price=0").json() == {"available": 1}


@pytest.mark.parametrize(
    ("query", "code"),
    [
        ("city=999999&category=debt", "unknown_region"),
        ("city=370000&category=debt", "region_not_city"),
        ("city=370100&category=nope", "unknown_category"),
        ("city=370100&category=debt&price=-1", "invalid_price"),
        (f"city=370100&category=debt&price={10**30}", "invalid_price"),
        ("city=370100&category=debt&currency=XYZ", "invalid_currency"),
    ],
)
def test_available_refuses_bad_input_with_its_code(api, query, code):
    response = api(None).get(f"lawyers/available?{query}")

    assert response.status_code == 422
    assert response.json()["code"] == code
