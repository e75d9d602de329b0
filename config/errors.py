"""The one error shape of the API and the socket: a stable code and a human message.

Services raise a DomainError subclass; the API answers `{"code", "message", "fields"?}` with
its status, and the socket answers an `error` frame with the same code and message.
"""

from __future__ import annotations

from collections.abc import Callable, Collection
from typing import TYPE_CHECKING, Any, ClassVar, TypeVar

from django.utils.translation import gettext_lazy as _

if TYPE_CHECKING:
    from django import forms


class DomainError(Exception):
    code: ClassVar[str] = "error"
    status: ClassVar[int] = 400
    message: ClassVar[Any] = _("The request could not be completed.")

    def __init__(self, message: Any = None, *, fields: dict[str, Any] | None = None):
        self.detail = message if message is not None else self.message
        self.fields = fields
        super().__init__(f"{self.code}: {self.detail}")

    def as_dict(self) -> dict[str, Any]:
        body: dict[str, Any] = {"code": self.code, "message": str(self.detail)}
        if self.fields:
            body["fields"] = {k: str(v) for k, v in self.fields.items()}
        return body


def form_add_errors(
    form: forms.Form, exc: DomainError, *, shown: Collection[str] | None = None
) -> None:
    """A service's refusal on the page's form: each field's message beside that field when the
    form shows it (`shown`, by default every field of the form), the rest above the form."""
    shown = form.fields if shown is None else shown
    for field, message in (exc.fields or {"__all__": exc.detail}).items():
        form.add_error(field if field in shown else None, str(message))


class NotFound(DomainError):
    """Also what anyone gets for a thing they may not see: they learn nothing of it."""

    code = "not_found"
    status = 404
    message = _("Not found.")


class Forbidden(DomainError):
    code = "forbidden"
    status = 403
    message = _("You are not allowed to do that.")


class InvalidInput(DomainError):
    code = "invalid"
    status = 422
    message = _("Some fields are not valid.")


T = TypeVar("T")


class FieldProblems:
    """Collects what is wrong with several fields, so a person fixes a form in one go: raised
    as the first problem's error (its code and message) carrying every field's message."""

    def __init__(self) -> None:
        self.found: list[DomainError] = []

    def check(self, validate: Callable[[], T]) -> T | None:
        """validate()'s value, or None with its InvalidInput noted."""
        try:
            return validate()
        except InvalidInput as exc:
            self.found.append(exc)
            return None

    def add(self, problem: DomainError) -> None:
        self.found.append(problem)

    def raise_any(self) -> None:
        if not self.found:
            return
        first = self.found[0]
        fields: dict[str, Any] = {}
        for problem in self.found:
            fields.update(problem.fields or {})
        raise type(first)(first.detail, fields=fields)


class RateLimited(DomainError):
    code = "rate_limited"
    status = 429
    message = _("Too many requests. Please slow down and try again shortly.")


class Conflict(DomainError):
    code = "conflict"
    status = 409
    message = _("The request conflicts with the current state.")
