"""Joining sentences that were translated one by one, as the active language writes them."""

from __future__ import annotations

from collections.abc import Iterable

from django.utils.translation import get_language


def sentence_space() -> str:
    """Between two sentences: a space in English, nothing in Chinese, whose full stop "。"
    already holds the room. (A catalogue cannot translate " " as nothing.)"""
    return "" if (get_language() or "").startswith("zh") else " "


def sentences_join(sentences: Iterable[str]) -> str:
    return sentence_space().join(str(s) for s in sentences)
