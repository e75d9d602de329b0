"""Group commit for the socket's `message.send`: the messages that the sockets of one web process
send while a batch is being stored wait and go together in the next one, in one thread hop and
one transaction (`services.message_send_many`), instead of a hop, a pool checkout and a commit
each. Every message is still committed before its ack: a sender waits for the commit of its
own batch. With one message in flight this is one hop, as before; under load the batches grow
by themselves and the per-message cost falls.

Every message joins a batch: direct ones take the one-statement path, consult ones run the
consult's gate inside the batch (database work only: the payment capture it may decide reaches
the gateway after commit). The kinds of conversations the process has not seen yet are read
in the batch, in one query for all of them.
"""

from __future__ import annotations

import asyncio
import weakref
from concurrent.futures import ThreadPoolExecutor

from django.db import close_old_connections

from accounts.models import User
from messaging import services
from messaging.errors import MessageRateLimited
from messaging.models import Message
from messaging.rate_limits import message_rate_check_many

# the largest batch: bounds one transaction's time, and so the wait of the senders behind it
BATCH_MAX = 200


# one thread for every loop's batches: one batch at a time per process (a process has one loop)
_executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="message-writer")


def _send_many(messages: list[services.OutgoingMessage]) -> list[services.SendResult]:
    close_old_connections()
    try:
        return services.message_send_many(messages=messages)
    finally:
        close_old_connections()


class MessageWriter:
    """One per event loop: a queue of messages and at most one batch being stored."""

    def __init__(self) -> None:
        self.pending: list[tuple[services.OutgoingMessage, asyncio.Future]] = []
        self.draining = False

    async def send(
        self, *, sender: User, conversation_id: int, client_id: str, body: str
    ) -> tuple[Message, bool]:
        loop = asyncio.get_running_loop()
        future: asyncio.Future = loop.create_future()
        outgoing = services.OutgoingMessage(
            sender=sender, conversation_id=conversation_id, client_id=client_id, body=body
        )
        self.pending.append((outgoing, future))
        if not self.draining:
            self.draining = True
            loop.create_task(self.drain())
        return await future

    async def drain(self) -> None:
        try:
            while self.pending:
                batch = self.pending[:BATCH_MAX]
                del self.pending[:BATCH_MAX]
                try:
                    await self.store(batch)
                except Exception as exc:  # the batch as a whole failed: each sender hears it
                    for _, future in batch:
                        if not future.done():
                            future.set_exception(exc)
        finally:
            self.draining = False

    async def store(self, batch: list[tuple[services.OutgoingMessage, asyncio.Future]]) -> None:
        # the batch's rate checks in one round trip; refused messages leave the batch
        allowed = await message_rate_check_many([outgoing.sender.pk for outgoing, _ in batch])
        for (_, future), ok in zip(batch, allowed, strict=True):
            if not ok and not future.done():
                future.set_exception(MessageRateLimited())
        batch = [item for item, ok in zip(batch, allowed, strict=True) if ok]
        if not batch:
            return
        results = await asyncio.get_running_loop().run_in_executor(
            _executor, _send_many, [outgoing for outgoing, _ in batch]
        )
        for (_, future), result in zip(batch, results, strict=True):
            if future.done():  # the sender's socket went away meanwhile
                continue
            if isinstance(result, Exception):
                future.set_exception(result)
            else:
                future.set_result(result)


_writers: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, MessageWriter] = (
    weakref.WeakKeyDictionary()
)


async def message_send(
    *, sender: User, conversation_id: int, client_id: str, body: str
) -> tuple[Message, bool]:
    """`services.message_send`, from a coroutine, after the sender's rate check: in this
    process's next batch when it can. Raises what message_send raises, and MessageRateLimited."""
    loop = asyncio.get_running_loop()
    writer = _writers.get(loop)
    if writer is None:
        writer = _writers[loop] = MessageWriter()
    return await writer.send(
        sender=sender, conversation_id=conversation_id, client_id=client_id, body=body
    )
