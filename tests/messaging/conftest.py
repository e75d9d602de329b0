from __future__ import annotations

from collections.abc import Iterator

import pytest
from django.db import connection

from messaging.models import Conversation
from tests.messaging.factories import direct_conversation


@pytest.fixture
def conversation(asker, lawyer) -> Conversation:
    """A direct conversation between `asker` and `lawyer`."""
    return direct_conversation(asker, lawyer)


@pytest.fixture
def failing_message_inserts() -> Iterator[None]:
    """A real database error on every insert of a message (a trigger), as when the disk fills
    or a constraint we did not foresee fires."""
    with connection.cursor() as cursor:
        cursor.execute(
            """
            CREATE OR REPLACE FUNCTION messaging_test_refuse_insert() RETURNS trigger AS $$
            BEGIN RAISE EXCEPTION 'simulated storage failure'; END $$ LANGUAGE plpgsql;
            CREATE TRIGGER messaging_test_refuse_insert BEFORE INSERT ON messaging_message
            FOR EACH ROW EXECUTE FUNCTION messaging_test_refuse_insert();
            """
        )
    yield
    with connection.cursor() as cursor:
        cursor.execute(
            "DROP TRIGGER IF EXISTS messaging_test_refuse_insert ON messaging_message;"
            "DROP FUNCTION IF EXISTS messaging_test_refuse_insert();"
        )
