"""The fixed-SQL helpers of the hot paths (config.prepared_sql), on real PostgreSQL."""

from __future__ import annotations

import tempfile

import pytest
from django.db import DataError, connection, transaction
from psycopg import pq

from config import prepared_sql
from marketplace.models import Consult, Region
from tests.factories import QuestionFactory

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

    assert prepared_sql.insert(first, unless_conflict=True) is True
    assert prepared_sql.insert(second, unless_conflict=True) is False

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


def client_messages_then_server_messages(trace: str) -> tuple[list[str], list[str]]:
    """(what the client sent before the server's first answer, what came back after)"""
    lines = [line.split("\t") for line in trace.splitlines() if line]
    first_answer = next(n for n, line in enumerate(lines) if line[0] == "B")
    return [line[2] for line in lines[:first_answer]], [line[2] for line in lines[first_answer:]]


@pytest.mark.django_db(transaction=True)
def test_a_batch_sends_its_statements_in_one_round_trip():
    consult = new_consult()
    prepared_sql.insert(consult)
    table = connection.ops.quote_name(Consult._meta.db_table)
    bump = f"UPDATE {table} SET price = price + 1 WHERE id = %s"  # noqa: S608
    read = f"SELECT price FROM {table} WHERE id = %s"  # noqa: S608
    with transaction.atomic():
        prepared_sql.fetch_all(read, [consult.pk])  # the transaction's BEGIN, and prepared
        with prepared_sql.batch() as batch:  # prepared once, so the traced run sends no Parse
            prepared_sql.execute(bump, [consult.pk])
            batch.fetch_all(read, [consult.pk])
        raw = connection.connection
        with tempfile.NamedTemporaryFile("w+") as trace:
            raw.pgconn.trace(trace.fileno())
            raw.pgconn.set_trace_flags(pq.Trace.SUPPRESS_TIMESTAMPS | pq.Trace.REGRESS_MODE)
            with prepared_sql.batch() as batch:
                prepared_sql.execute(bump, [consult.pk])
                rows = batch.fetch_all(read, [consult.pk])
                assert rows == []  # not read yet
            raw.pgconn.untrace()
            trace.seek(0)  # libpq wrote through the same file offset
            sent, answered = client_messages_then_server_messages(trace.read())
    assert rows == [(2,)]
    assert sent.count("Execute") == 2 and sent.count("Sync") == 1
    assert "Execute" not in answered and "Sync" not in answered
    assert Consult.objects.get(pk=consult.pk).price == 2


@pytest.mark.django_db(transaction=True)
def test_an_error_in_a_batch_is_raised_at_its_end_and_rolls_the_transaction_back():
    consult = new_consult()
    prepared_sql.insert(consult)
    table = connection.ops.quote_name(Consult._meta.db_table)

    def store_then_fail() -> None:
        with transaction.atomic():
            prepared_sql.fetch_all(f"SELECT id FROM {table} WHERE id = %s", [consult.pk])  # noqa: S608
            with prepared_sql.batch():
                prepared_sql.execute(f"UPDATE {table} SET price = 7 WHERE id = %s", [consult.pk])  # noqa: S608
                prepared_sql.execute(
                    f"UPDATE {table} SET price = 1 / 0 WHERE id = %s", [consult.pk]
                )  # noqa: S608

    with pytest.raises(DataError):
        store_then_fail()
    assert Consult.objects.get(pk=consult.pk).price == 0
    assert prepared_sql.fetch_all("SELECT 1", []) == [(1,)]
