"""The JSON API at /api/v1: every app adds its router here; every error has one shape."""

from __future__ import annotations

import logging
from typing import Any

from django.core.exceptions import PermissionDenied
from django.db import DataError
from django.http import Http404, HttpRequest, HttpResponse
from django.utils.datastructures import MultiValueDict
from ninja import NinjaAPI
from ninja.errors import AuthenticationError, HttpError
from ninja.errors import ValidationError as NinjaValidationError
from ninja.parser import Parser

from config.errors import DomainError, InvalidInput

logger = logging.getLogger(__name__)

# The error shape, and the errors any operation can answer whatever it does: a body that is not
# JSON (400), no or a bad sign-in (401), something not there or not the caller's (404), fields
# that do not validate (422). Each operation documents its own domain errors (403, 409, 429...).
ERROR_SCHEMA = {
    "title": "Error",
    "type": "object",
    "properties": {
        "code": {"type": "string", "description": "stable, for programs"},
        "message": {"type": "string", "description": "for people, in their language"},
        "fields": {"type": "object", "additionalProperties": {"type": "string"}},
    },
    "required": ["code", "message"],
}
COMMON_ERRORS = {
    400: "The body is not valid JSON.",
    401: "Sign in first.",
    404: "Not found, or not yours to see.",
    422: "Some fields are not valid.",
}


def document_common_errors(schema: dict) -> dict:
    """Add the common error responses to every operation of an OpenAPI document that does not
    document them already (found missing by tests/security/test_api_fuzz.py)."""
    schema.setdefault("components", {}).setdefault("schemas", {})["Error"] = ERROR_SCHEMA
    error = {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}
    for operations in schema.get("paths", {}).values():
        for operation in operations.values():
            statuses = {404}
            if operation.get("parameters") or operation.get("requestBody"):
                statuses.add(422)
            if operation.get("requestBody"):
                statuses.add(400)
            if operation.get("security"):
                statuses.add(401)
            responses = operation.setdefault("responses", {})
            for status in sorted(statuses):
                if status not in responses and str(status) not in responses:
                    responses[status] = {"description": COMMON_ERRORS[status], "content": error}
    return schema


def _holds_nul(value: Any) -> bool:
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, dict):
        return any(_holds_nul(k) or _holds_nul(v) for k, v in value.items())
    if isinstance(value, list):
        return any(_holds_nul(v) for v in value)
    return False


class NulRefusingParser(Parser):
    """PostgreSQL text cannot hold NUL characters: a body or query carrying one is refused as
    invalid input (422) instead of failing in the database (500; found by
    tests/security/test_api_fuzz.py)."""

    def parse_body(self, request: HttpRequest) -> dict[str, Any]:
        data = super().parse_body(request)
        if _holds_nul(data):
            raise InvalidInput(fields={"body": "Text cannot contain NUL characters."})
        return data

    def parse_querydict(
        self, data: MultiValueDict, list_fields: list[str], request: HttpRequest
    ) -> dict[str, Any]:
        parsed = super().parse_querydict(data, list_fields, request)
        if _holds_nul(parsed):
            raise InvalidInput(fields={"query": "Text cannot contain NUL characters."})
        return parsed


class LawlineAPI(NinjaAPI):
    def get_openapi_schema(self, **kwargs):  # type: ignore[no-untyped-def]
        return document_common_errors(super().get_openapi_schema(**kwargs))


api = LawlineAPI(
    parser=NulRefusingParser(),
    title="Lawline API",
    version="1",
    urls_namespace="api",
    docs_url="/docs",
    description="Lawyer consultations with real-time chat. Errors are "
    '`{"code": ..., "message": ..., "fields": {...}?}` with a stable code.',
)


def error_response(
    request: HttpRequest, status: int, code: str, message: str, fields: dict | None = None
) -> HttpResponse:
    body: dict = {"code": code, "message": message}
    if fields:
        body["fields"] = fields
    return api.create_response(request, body, status=status)


@api.exception_handler(DomainError)
def on_domain_error(request: HttpRequest, exc: DomainError) -> HttpResponse:
    return api.create_response(request, exc.as_dict(), status=exc.status)


@api.exception_handler(NinjaValidationError)
def on_validation_error(request: HttpRequest, exc: NinjaValidationError) -> HttpResponse:
    fields: dict[str, str] = {}
    for err in exc.errors:
        loc = [str(p) for p in err.get("loc", ()) if p not in ("body", "query", "path", "payload")]
        fields[".".join(loc) or "body"] = str(err.get("msg", "invalid"))
    return error_response(request, 422, "invalid", "Some fields are not valid.", fields)


@api.exception_handler(AuthenticationError)
def on_auth_error(request: HttpRequest, exc: AuthenticationError) -> HttpResponse:
    return error_response(request, 401, "not_authenticated", "Sign in first.")


@api.exception_handler(Http404)
def on_not_found(request: HttpRequest, exc: Http404) -> HttpResponse:
    return error_response(request, 404, "not_found", "Not found.")


@api.exception_handler(PermissionDenied)
def on_permission_denied(request: HttpRequest, exc: PermissionDenied) -> HttpResponse:
    return error_response(request, 403, "forbidden", "You are not allowed to do that.")


@api.exception_handler(HttpError)
def on_http_error(request: HttpRequest, exc: HttpError) -> HttpResponse:
    code = {400: "bad_request", 405: "method_not_allowed", 413: "too_large"}.get(
        exc.status_code, "error"
    )
    return error_response(request, exc.status_code, code, str(exc))


@api.exception_handler(DataError)
def on_data_error(request: HttpRequest, exc: DataError) -> HttpResponse:
    # a value the database cannot hold (an offset past bigint, text with NUL) is the client's
    # input, not our failure (found by tests/security/test_api_fuzz.py)
    return error_response(request, 422, "invalid", "A value is out of range or not allowed.")


@api.exception_handler(Exception)
def on_unexpected(request: HttpRequest, exc: Exception) -> HttpResponse:
    logger.exception("unhandled API error on %s %s", request.method, request.path)
    return error_response(request, 500, "server_error", "Something went wrong on our side.")


# qa first: its fixed paths (/questions/similar) must be tried before marketplace's
# /questions/{question_id}, whose path segment would otherwise swallow them
API_APPS = ("qa", "marketplace", "messaging", "billing")


def install_routers() -> None:
    """accounts at /auth; every other app's `<app>.api.router` at the root of /api/v1."""
    from importlib import import_module
    from importlib.util import find_spec

    from accounts.api import router as accounts_router

    api.add_router("/auth", accounts_router)
    for app in API_APPS:
        if find_spec(app) is not None and find_spec(f"{app}.api") is not None:
            api.add_router("/", import_module(f"{app}.api").router)


install_routers()
