"""The fixed-SQL helpers of the hot paths (config.prepared_sql), on real PostgreSQL."""

from __future__ import annotations

import pytest
from django.db import connection

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
