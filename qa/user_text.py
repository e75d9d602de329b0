"""Text people type, made safe to store: PostgreSQL text cannot hold NUL, and other control
characters (bar newlines and tabs) only hide content from readers and reviewers."""

from __future__ import annotations

import re

_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def user_text(value: object) -> str:
    """`value` as a string without control characters, stripped; '' for None."""
    if value is None:
        return ""
    return _CONTROL.sub("", str(value)).strip()
