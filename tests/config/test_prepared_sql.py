"""The fixed-SQL helpers of the hot paths (config.prepared_sql), on real PostgreSQL."""

from __future__ import annotations

import tempfile

import pytest
from django.db import DataError, connection, transaction
from psycopg import OperationalError, pq

from config import prepared_sql
from marketplace.models import Consult, Region
from tests.factories import QuestionFactory
from tests.reliability.conftest import admin_connection

pytestmark = pytest.mark.django_db


def new_consult() -> Consult:
    question = QuestionFactory()
    return Consult(
        question=question, asker=question.asker, state=Consult.State.QUEUED, currency="CNY"
    )


def test_insert_stores_the_row_as_save_would(django_assert_num_queries):
    consult = new_consult()
    with django_assert_num_queries(1):
        prepared_sql.insert(consult)
    assert consult.pk is not None
    assert not consult._state.adding
    assert consult.created_at is not None and consult.updated_at is not None
    stored = Consult.objects.get(pk=consult.pk)
    for field in Consult._meta.concrete_fields:
        assert getattr(stored, field.attname) == getattr(consult, field.attname), field.name


def test_inserted_rows_get_keys_of_their_own():
    first, second = new_consult(), new_consult()
    prepared_sql.insert(first)
    prepared_sql.insert(second)
    assert second.pk > first.pk


def test_insert_unless_conflict_writes_nothing_that_breaks_a_unique_index():
    first = new_consult()
    second = Consult(
        question=first.question, asker=first.asker, state=Consult.State.QUEUED, currency="CNY"
    )

    # the partial unique index over the open states, inferred from a predicate that implies it
    one_open = "(question_id) WHERE state IN ('queued')"
    assert prepared_sql.insert(first, unless_conflict_on=one_open) is True
    assert prepared_sql.insert(second, unless_conflict_on=one_open) is False

    assert second.pk is None and second._state.adding
    assert list(Consult.objects.values_list("pk", flat=True)) == [first.pk]


def test_insert_refuses_a_model_whose_key_the_caller_chooses():
    with pytest.raises(TypeError):
        prepared_sql.insert(Region(code="999999", level=Region.Level.CITY))


def test_fetch_all_returns_no_rows_for_a_statement_without_any():
    consult = new_consult()
    prepared_sql.insert(consult)
    table = connection.ops.quote_name(Consult._meta.db_table)
    update = f"UPDATE {table} SET price = price WHERE id = %s"  # noqa: S608
    assert prepared_sql.fetch_all(update, [consult.pk]) == []
    assert prepared_sql.fetch_all(update + " RETURNING id", [consult.pk]) == [(consult.pk,)]


def client_messages_before_the_first_answer(trace: str) -> list[str]:
    lines = [line.split("\t") for line in trace.splitlines() if line]
    first_answer = next(n for n, line in enumerate(lines) if line[0] == "B")
    return [line[2] for line in lines[:first_answer]]


def bump_price_sql() -> str:
    table = connection.ops.quote_name(Consult._meta.db_table)
    return f"UPDATE {table} SET price = price + %s WHERE id = %s RETURNING price"  # noqa: S608


@pytest.mark.django_db(transaction=True)
def test_then_commit_sends_begin_with_the_statement_and_commits():
    consult = new_consult()
    prepared_sql.insert(consult)
    prepared_sql.fetch_all_then_commit(bump_price_sql(), [1, consult.pk])  # prepared once
    raw = connection.connection
    with tempfile.NamedTemporaryFile("w+") as trace:
        raw.pgconn.trace(trace.fileno())
        raw.pgconn.set_trace_flags(pq.Trace.SUPPRESS_TIMESTAMPS | pq.Trace.REGRESS_MODE)
        rows = prepared_sql.fetch_all_then_commit(bump_price_sql(), [1, consult.pk])
        raw.pgconn.untrace()
        trace.seek(0)  # libpq wrote through the same file offset
        first_round_trip = client_messages_before_the_first_answer(trace.read())
    assert rows == [(2,)]
    assert first_round_trip.count("Execute") == 2 and first_round_trip.count("Sync") == 1
    assert raw.info.transaction_status == pq.TransactionStatus.IDLE
    with admin_connection() as other:  # committed: another session sees it
        table = Consult._meta.db_table
        read = f"SELECT price FROM {table} WHERE id = %s"  # noqa: S608
        assert other.execute(read, [consult.pk]).fetchone() == (2,)


@pytest.mark.django_db(transaction=True)
def test_then_commit_rolls_an_error_back_and_leaves_the_connection_usable():
    consult = new_consult()
    prepared_sql.insert(consult)

    with pytest.raises(DataError):
        prepared_sql.fetch_all_then_commit(bump_price_sql(), [2**40, consult.pk])

    assert connection.connection.info.transaction_status == pq.TransactionStatus.IDLE
    assert Consult.objects.get(pk=consult.pk).price == 0


def test_then_commit_inside_a_transaction_runs_in_it():
    consult = new_consult()
    prepared_sql.insert(consult)

    def bump_then_fail() -> None:
        with transaction.atomic():
            rows = prepared_sql.fetch_all_then_commit(bump_price_sql(), [5, consult.pk])
            raise RuntimeError(rows)

    with pytest.raises(RuntimeError, match=r"\[\(5,\)\]"):
        bump_then_fail()

    assert Consult.objects.get(pk=consult.pk).price == 0


@pytest.mark.django_db(transaction=True)
def test_then_commit_closes_a_connection_it_cannot_roll_back(monkeypatch):
    consult = new_consult()
    prepared_sql.insert(consult)
    raw = connection.connection
    execute = raw.execute

    def rollback_fails(query, *args, **kwargs):
        if query == "ROLLBACK":
            raise OperationalError("the server is gone")
        return execute(query, *args, **kwargs)

    monkeypatch.setattr(raw, "execute", rollback_fails)

    with pytest.raises(DataError):  # the statement's error, not the rollback's
        prepared_sql.fetch_all_then_commit(bump_price_sql(), [2**40, consult.pk])

    assert connection.connection is None  # closed; the next query opens a fresh one
    assert Consult.objects.get(pk=consult.pk).price == 0
