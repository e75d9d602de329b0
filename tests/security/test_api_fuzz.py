"""Every /api/v1 route fuzzed from its own OpenAPI schema (schemathesis): generated valid and
invalid bodies, queries and paths, sent signed in as the role the route is for. No answer may be
a 5xx, and every answer must be one the schema documents, in the shape and content type it
documents."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import schemathesis
from django.core import signals
from django.db import close_old_connections, transaction
from hypothesis import HealthCheck, settings
from schemathesis import checks

from config.wsgi import application
from tests.conftest import bearer_for
from tests.factories import AskerFactory, LawyerProfileFactory, StaffFactory

schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", application)

CHECKS = [
    checks.not_a_server_error,
    checks.status_code_conformance,
    checks.content_type_conformance,
    checks.response_schema_conformance,
    checks.response_headers_conformance,
]


def role_for(path: str) -> str:
    if path.startswith("/api/v1/admin/"):
        return "staff"
    if path.startswith(("/api/v1/lawyer/", "/api/v1/offers/")):
        return "lawyer"
    return "asker"


@pytest.fixture
def in_test_transaction() -> Iterator[None]:
    """Requests run inside the test's transaction, as Django's test client runs them: the
    handler must not close (return to the pool) the connection that holds it."""
    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    yield
    signals.request_started.connect(close_old_connections)
    signals.request_finished.connect(close_old_connections)


@pytest.fixture
def tokens(db, in_test_transaction) -> dict[str, str]:
    return {
        "asker": bearer_for(AskerFactory()),
        "lawyer": bearer_for(LawyerProfileFactory().user),
        "staff": bearer_for(StaffFactory()),
    }


@pytest.mark.django_db
@schema.parametrize()
@settings(
    max_examples=20,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
def test_api_answers_every_generated_request_as_documented(case, tokens):
    token = tokens[role_for(case.operation.full_path)]
    # each case from a clean state: a value the database refuses (answered 422) aborts the
    # enclosing test transaction, which a real request in autocommit never shares
    savepoint = transaction.savepoint()
    try:
        case.call_and_validate(headers={"Authorization": f"Bearer {token}"}, checks=CHECKS)
    finally:
        transaction.savepoint_rollback(savepoint)


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("method", "path", "data", "status", "code"),
    [
        ("post", "auth/token", {"username": "nul\x00", "password": "x"}, 400, "bad_request"),
        ("post", "auth/register", {"username": "a\x00b", "password": "x"}, 400, "bad_request"),
        ("get", "questions", {"q": "\x00"}, 422, "invalid"),
        ("get", "admin/lawyers", {"verification": "\x00"}, 422, "invalid"),
    ],
)
def test_text_with_a_nul_character_is_refused_not_a_server_error(
    api, method, path, data, status, code
):
    # given (PostgreSQL text cannot hold NUL; hypothesis found these as 500s)
    client = api(StaffFactory())
    # when
    response = client.get(path, data) if method == "get" else client.post(path, data)
    # then
    assert response.status_code == status, response.content
    assert response.json()["code"] == code


@pytest.mark.django_db
def test_an_offset_past_what_the_database_holds_is_invalid_input(api):
    # given (hypothesis found this as a 500)
    lawyer = LawyerProfileFactory().user
    # when
    response = api(lawyer).get("lawyer/earnings", {"offset": 2**100, "limit": 10})
    # then
    assert response.status_code == 422, response.content
