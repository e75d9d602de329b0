"""Fixed SQL of the hot paths (the post → offer.new path, the token lookup of every API
request and socket, the lawyer queue, the question page), run as server-side prepared
statements.

Django's cursor binds parameters on the client and sends every statement as text (the
backend turns psycopg's automatic preparing off), so PostgreSQL parses and plans the matching
pass's candidate query on every pass. Run on psycopg's own cursor with `prepare=True`, a
statement is parsed once per pooled connection, and with the session's
plan_cache_mode=force_generic_plan (config/settings/base.py) planned once too: the candidate
query measured 1.3-1.5 ms unprepared, 0.9-1.4 ms prepared with a plan per execution (PostgreSQL
kept choosing custom plans) and 0.3 ms on its generic plan; the question page's four
statements took 0.3-0.4 ms each to plan, more than to run. These statements do not show in
Django's query log (nor in `django_assert_num_queries`) unless run with `logged=True`.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Mapping, Sequence
from functools import cache
from typing import Any

import psycopg
from django.db import connection, models
from django.db.models.fields import AutoFieldMixin
from psycopg import pq

Params = Sequence[Any] | Mapping[str, Any]


# Django opens connections with prepare_threshold=None, under which psycopg ignores even an
# explicit `prepare=True`. A threshold no statement reaches turns explicit preparing on and
# leaves everything else as it was: Django's own cursors bind client side and never prepare.
NEVER_AUTOMATICALLY = 2**31 - 1


def _raw_connection() -> psycopg.Connection:
    connection.ensure_connection()
    raw = connection.connection
    if raw.prepare_threshold is None:
        raw.prepare_threshold = NEVER_AUTOMATICALLY
    return raw


def fetch_all(sql: str, params: Params, *, logged: bool = False) -> list[tuple[Any, ...]]:
    """Rows of a prepared statement run in the caller's transaction (if any). `logged`: also
    written to Django's query log when it is on (debug, and the tests' query counts), as
    Django's own cursor would."""
    started = time.monotonic()
    with connection.wrap_database_errors, psycopg.Cursor(_raw_connection()) as cursor:
        cursor.execute(sql, params, prepare=True)
        rows = _rows(cursor)
    if logged:
        _log(sql, "prepared", params, started)
    return rows


def _rows(cursor: psycopg.Cursor) -> list[tuple[Any, ...]]:
    # not `cursor.description`: it builds a Column for every column on every call, up to
    # 0.1 ms for the wide rows of the question page and the matching pass
    result = cursor.pgresult
    return cursor.fetchall() if result and result.status == pq.ExecStatus.TUPLES_OK else []


def _log(sql: str, how: str, params: Params, started: float) -> None:
    """Into Django's query log when it is on, as Django's own cursor would (the text is built
    only then: these statements are on hot paths)."""
    if connection.queries_logged:
        connection.queries_log.append(
            {
                "sql": f"{sql} -- {how}, with {params!r}",
                "time": f"{time.monotonic() - started:.3f}",
            }
        )


def fetch_all_then_commit(sql: str, params: Params, *, logged: bool = False) -> list[tuple]:
    """Rows of a prepared statement that writes, in a transaction of its own which this process
    commits only once the rows are back. A process killed while the statement runs or waits
    on a lock leaves nothing behind: PostgreSQL would finish and commit a statement sent in
    autocommit, and only then find its client gone. BEGIN travels with the statement in one
    round trip (psycopg's own transactions send BEGIN in a round trip of its own), COMMIT in a
    second. Inside the caller's transaction it simply runs there, as `fetch_all`."""
    if connection.in_atomic_block or not connection.get_autocommit():
        return fetch_all(sql, params, logged=logged)
    started = time.monotonic()
    raw = _raw_connection()
    with connection.wrap_database_errors:
        try:
            with psycopg.Cursor(raw) as begin, psycopg.Cursor(raw) as cursor:
                with raw.pipeline():
                    begin.execute("BEGIN")
                    cursor.execute(sql, params, prepare=True)
                rows = _rows(cursor)
            raw.execute("COMMIT")
        except BaseException:
            _roll_back_or_close(raw)
            raise
    if logged:
        _log(sql, "prepared, own transaction", params, started)
    return rows


def _roll_back_or_close(raw: psycopg.Connection) -> None:
    """After a failure inside `fetch_all_then_commit`: end its transaction, or, when that fails
    too (a statement still running after an interrupt, a broken connection), close the
    connection, as Django does when an atomic block's rollback fails."""
    if raw.closed or raw.info.transaction_status == pq.TransactionStatus.IDLE:
        return
    try:
        raw.execute("ROLLBACK")
    except Exception:  # noqa: BLE001 - the caller re-raises the original error
        connection.close()


@cache
def _insert_sql(
    model: type[models.Model], unless_conflict_on: str | None
) -> tuple[str, tuple[models.Field, ...]]:
    if not isinstance(model._meta.pk, AutoFieldMixin):
        raise TypeError(f"{model.__name__}: only models whose database assigns the key")
    quote = connection.ops.quote_name
    fields = tuple(f for f in model._meta.concrete_fields if not f.primary_key)
    sql = (
        f"INSERT INTO {quote(model._meta.db_table)}"  # noqa: S608 - names from the model
        f" ({', '.join(quote(str(f.column)) for f in fields)})"
        f" VALUES ({', '.join(['%s'] * len(fields))})"
        f"{f' ON CONFLICT {unless_conflict_on} DO NOTHING' if unless_conflict_on else ''}"
        f" RETURNING {quote(str(model._meta.pk.column))}"
    )
    return sql, fields


def insert(instance: models.Model, *, unless_conflict_on: str | None = None) -> bool:
    """`instance.save()` of a new row whose primary key the database assigns, as one prepared
    INSERT (in the query log): each field's value as Django's own insert takes it (`pre_save`,
    so auto_now dates are set on the instance too). No model signals are sent; nothing in the
    project listens to them. `unless_conflict_on`: a conflict target, e.g. "(a) WHERE b" for a
    partial unique index; a row that would break that index is not written (ON CONFLICT ...
    DO NOTHING) and False comes back, the instance unsaved. Any other conflict still raises."""
    model = type(instance)
    sql, fields = _insert_sql(model, unless_conflict_on)
    values = [f.get_db_prep_save(f.pre_save(instance, True), connection) for f in fields]
    rows = fetch_all(sql, values, logged=True)
    if not rows:
        return False
    ((pk,),) = rows
    instance.pk = pk
    instance._state.adding = False
    instance._state.db = connection.alias
    return True


def model_columns(
    parts: Iterable[tuple[type[models.Model], str, Iterable[str]]],
) -> tuple[list[str], tuple[tuple[str, ...], ...]]:
    """For a fixed SELECT over several tables: the quoted `alias.column` of every concrete
    field of each (model, table alias, field names to leave out), and each part's attnames in
    the same order, to build the model instances back from a row."""
    quote = connection.ops.quote_name
    columns: list[str] = []
    attnames: list[tuple[str, ...]] = []
    for model, alias, skip in parts:
        fields = [f for f in model._meta.concrete_fields if f.name not in set(skip)]
        columns += [f"{alias}.{quote(str(f.column))}" for f in fields]
        attnames.append(tuple(f.attname for f in fields))
    return columns, tuple(attnames)


def instances_from_row(
    parts: Iterable[tuple[type[models.Model], str, Iterable[str]]],
    attnames: Sequence[Sequence[str]],
    row: Sequence[Any],
) -> list[models.Model]:
    """The model instances of one row of a SELECT built with `model_columns(parts)`, in the
    order of `parts` (relations between them are for the caller to set)."""
    instances = []
    start = 0
    for (model, _alias, _skip), names in zip(parts, attnames, strict=True):
        instances.append(model.from_db(connection.alias, names, row[start : start + len(names)]))
        start += len(names)
    return instances
