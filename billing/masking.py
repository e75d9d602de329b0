"""Masking personal data for public display. Done on the server: the full value never leaves."""

from __future__ import annotations


def mask_phone(phone: str | None) -> str:
    """'16212343566' → '162****3566'. Anything too short to mask safely shows nothing of it."""
    digits = "".join(ch for ch in (phone or "") if ch.isdigit())
    if len(digits) < 8:
        return "****" if digits else ""
    return f"{digits[:3]}****{digits[-4:]}"


def mask_email(email: str | None) -> str:
    """'li.ming@example.cn' → 'l***@example.cn': the first letter and the domain."""
    local, at, domain = (email or "").partition("@")
    if not at:
        return "***" if local else ""
    return f"{local[:1]}***@{domain}"
