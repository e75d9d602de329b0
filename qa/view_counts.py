"""Question views: counted in Redis, added to the database in batches by beat.

A page view is one HINCRBY on the `pending` hash (no database write). The flush claims the hash
by renaming it to a batch of its own (atomically, in a Lua script, with the batch's id added to
the set of unfinished batches), then adds the batch to the questions in one transaction that
also inserts a `ViewFlushBatch` row with the batch id, and only then deletes the batch in Redis.

So each batch reaches the database exactly once:
- a crash before the commit leaves the batch in Redis; the next flush adds it;
- a crash after the commit but before the delete: the next flush finds the batch id already
  recorded (ON CONFLICT DO NOTHING inserts nothing) and only deletes the batch;
- two flushes at once: the second blocks on the first one's uncommitted batch row, then finds
  it recorded and skips the batch.
"""

from __future__ import annotations

import logging
import re
import uuid
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

from config.redis_connections import get_redis, key
from marketplace.models import Question
from qa.models import ViewFlushBatch

logger = logging.getLogger(__name__)

# one hash tag: the pending hash, the batches and their set live in one cluster slot
_TAG = "{qa-views}"
BATCH_RETENTION = timedelta(days=2)

_CLAIM_SCRIPT = """
if redis.call('EXISTS', KEYS[1]) == 1 then
  redis.call('RENAME', KEYS[1], KEYS[2])
  redis.call('SADD', KEYS[3], ARGV[1])
  return 1
end
return 0
"""


_BOT = re.compile(r"bot|crawl|spider|slurp|preview|monitor|curl|wget|python-requests", re.I)


def is_bot(user_agent: str) -> bool:
    """Crawlers and link previews read pages without counting as views."""
    return _BOT.search(user_agent) is not None


def pending_key() -> str:
    return key("qa", _TAG, "pending")


def _batch_key(batch_id: str) -> str:
    return key("qa", _TAG, "batch", batch_id)


def _batches_key() -> str:
    return key("qa", _TAG, "batches")


def view_record(question_id: int) -> int:
    """Count one view; returns the views not yet flushed for this question (to show
    `view_count + pending` without reading the database)."""
    return int(get_redis().hincrby(pending_key(), str(question_id), 1))


def views_pending(question_id: int) -> int:
    value = get_redis().hget(pending_key(), str(question_id))
    return int(value or 0)


@dataclass(frozen=True)
class FlushResult:
    batches: int
    questions: int
    views: int


def views_flush() -> FlushResult:
    """Claim the pending views and add every unfinished batch to the database."""
    redis = get_redis()
    batch_id = uuid.uuid4().hex
    redis.eval(_CLAIM_SCRIPT, 3, pending_key(), _batch_key(batch_id), _batches_key(), batch_id)
    batches = questions = views = 0
    for raw in sorted(redis.smembers(_batches_key())):
        done_questions, done_views = _flush_batch(raw.decode() if isinstance(raw, bytes) else raw)
        batches += 1
        questions += done_questions
        views += done_views
    _forget_old_batches()
    return FlushResult(batches=batches, questions=questions, views=views)


def _read_batch(batch_id: str) -> dict[int, int]:
    counts: dict[int, int] = {}
    for field, value in get_redis().hscan_iter(_batch_key(batch_id), count=1000):
        try:
            question_id, views = int(field), int(value)
        except ValueError:
            logger.warning("ignoring a malformed view counter in batch %s", batch_id)
            continue
        if question_id > 0 and views > 0:
            counts[question_id] = views
    return counts


def _flush_batch(batch_id: str) -> tuple[int, int]:
    counts = _read_batch(batch_id)
    applied = (0, 0)
    if counts:
        with transaction.atomic():
            if _record_batch(batch_id, counts):
                _add_views(counts)
                applied = (len(counts), sum(counts.values()))
    # committed (by us or by an earlier run): the batch is done
    pipe = get_redis().pipeline()
    pipe.delete(_batch_key(batch_id))
    pipe.srem(_batches_key(), batch_id)
    pipe.execute()
    return applied


def _record_batch(batch_id: str, counts: dict[int, int]) -> bool:
    """Insert the batch's marker row; False when an earlier flush already recorded it."""
    table = connection.ops.quote_name(ViewFlushBatch._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {table} (batch_id, questions, views, flushed_at) "  # noqa: S608
            "VALUES (%s, %s, %s, %s) ON CONFLICT (batch_id) DO NOTHING RETURNING id",
            [batch_id, len(counts), sum(counts.values()), timezone.now()],
        )
        return cursor.fetchone() is not None


def _add_views(counts: dict[int, int]) -> None:
    table = connection.ops.quote_name(Question._meta.db_table)
    items = sorted(counts.items())  # a fixed order: concurrent flushes never deadlock
    chunk = max(1, settings.QA_VIEW_FLUSH_CHUNK)
    with connection.cursor() as cursor:
        for start in range(0, len(items), chunk):
            rows = items[start : start + chunk]
            values = ", ".join(["(%s::bigint, %s::integer)"] * len(rows))
            cursor.execute(
                f"UPDATE {table} AS q SET view_count = q.view_count + v.n "  # noqa: S608
                f"FROM (VALUES {values}) AS v(id, n) WHERE q.id = v.id",
                [value for row in rows for value in row],
            )


def _forget_old_batches() -> None:
    """Batch markers are only needed while a batch may still sit in Redis."""
    unfinished = {
        raw.decode() if isinstance(raw, bytes) else raw
        for raw in get_redis().smembers(_batches_key())
    }
    ViewFlushBatch.objects.filter(flushed_at__lt=timezone.now() - BATCH_RETENTION).exclude(
        batch_id__in=unfinished
    ).delete()
