"""Sockets over time and in bursts, on a real uvicorn process: an idle socket stays open and
still receives after two minutes (redis-py's default 5 s socket timeout once killed idle
consumers, ../shared/TESTING-NOTES.md); 500 sockets connecting at once and then leaving at once
get no 500s, leave no failed group operation in the server's log and no subscription behind."""

from __future__ import annotations

import asyncio

import pytest
import redis
from asgiref.sync import sync_to_async
from django.conf import settings

from accounts.models import User
from accounts.realtime import user_group
from config.channel_layer import SealedPubSubChannelLayer
from config.settings.base import redis_url
from tests.conftest import bearer_for
from tests.factories import AskerFactory
from tests.reliability.conftest import LiveSocket, async_wait_until, tracebacks

pytestmark = [
    pytest.mark.fault,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]

BURST = 500


class LayerPublisher:
    """Publishes frames to users' groups on the stack's channel layer, as the product does
    from sync code (accounts.realtime), in the layer's own wire format (encrypted)."""

    def __init__(self, stack):
        config = settings.CHANNEL_LAYERS["default"]["CONFIG"]
        self.address = redis_url(stack.redis.url, settings.REDIS_DB_CHANNELS)
        self.layer = SealedPubSubChannelLayer(
            hosts=[self.address],
            prefix=config["prefix"],
            symmetric_encryption_keys=config["symmetric_encryption_keys"],
        )
        self.prefix = config["prefix"]
        self.redis = redis.Redis.from_url(self.address)

    def channel(self, user_id: int) -> str:
        return f"{self.prefix}__group__{user_group(user_id)}"

    def push(self, user_ids, frame: dict) -> None:
        payload = self.layer.serialize({"type": "client.frame", "frame": frame})
        pipe = self.redis.pipeline(transaction=False)
        for user_id in user_ids:
            pipe.publish(self.channel(user_id), payload)
        pipe.execute()

    def subscribers(self, user_ids) -> int:
        counts = self.redis.pubsub_numsub(*[self.channel(u) for u in user_ids])
        return sum(count for _, count in counts)


@pytest.mark.stress
@pytest.mark.timeout(200)
async def test_an_idle_socket_stays_open_and_receives_after_two_minutes(stack):
    # given a socket that says nothing
    web = stack.web_process()
    user = await sync_to_async(AskerFactory)()
    sock = await LiveSocket.open(user, web.ws_url)
    # when two minutes pass in silence
    await asyncio.sleep(125)
    # then it is still open and a frame pushed to its user arrives
    assert not sock.closed.is_set()
    await asyncio.to_thread(LayerPublisher(stack).push, [user.pk], {"type": "nudge"})
    await sock.expect(lambda f: f.get("type") == "nudge", timeout=5)
    await sock.send({"type": "ping"})
    await sock.expect(lambda f: f.get("type") == "pong", timeout=5)
    await sock.close()
    assert not tracebacks(stack.web_stderr())


@sync_to_async
def many_users(count: int) -> list[tuple[User, str]]:
    users = AskerFactory.create_batch(count)
    return [(user, bearer_for(user)) for user in users]


async def test_a_burst_of_connects_then_disconnects_fails_nothing(stack):
    # given a web process and 500 people
    web = stack.web_process()
    people = await many_users(BURST)
    ids = [user.pk for user, _ in people]
    publisher = LayerPublisher(stack)

    # when all of them connect at once (a client waits up to a minute: 500 fresh tokens each
    # stamp their first use, one commit apiece, so the burst takes seconds here)
    socks = [LiveSocket(token, web.ws_url) for _, token in people]
    results = await asyncio.gather(
        *(s.connect(open_timeout=60) for s in socks), return_exceptions=True
    )
    # then every handshake succeeded (no 500, no refusal)
    failures = [r for r in results if isinstance(r, BaseException)]
    assert not failures, failures[:3]
    # and every socket joined its user's group: a frame pushed to each user arrives
    await async_wait_until(
        lambda: publisher.subscribers(ids) == BURST, timeout=30, what="every group subscribed"
    )
    await asyncio.to_thread(publisher.push, ids, {"type": "nudge"})
    for sock in socks:
        await sock.expect(lambda f: f.get("type") == "nudge", timeout=15)

    # when all of them leave at once
    await asyncio.gather(*(s.close() for s in socks))
    # then every group subscription is gone, and the server logged no failure
    await async_wait_until(
        lambda: publisher.subscribers(ids) == 0, timeout=30, what="every group left"
    )
    assert not tracebacks(stack.web_stderr()), stack.web_stderr()[-3000:]
    # and the process still serves a newcomer
    newcomer = await LiveSocket.open(people[0][0], web.ws_url)
    await newcomer.send({"type": "ping"})
    await newcomer.expect(lambda f: f.get("type") == "pong", timeout=5)
    await newcomer.close()
