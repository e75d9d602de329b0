"""Figures for people, in the page's language: durations, rates, money, platform notices.
static/js/format.js formats the same values the same way once the page updates them live."""

from __future__ import annotations

from typing import Any

from django import template
from django.utils.translation import gettext as _
from django.utils.translation import ngettext, pgettext

from config import sentences
from config.money import format_money

register = template.Library()


@register.filter
def duration(seconds: Any) -> str:
    """45 → "45 秒"; 200 → "3 分钟"; 7200 → "2 小时"; None → "—"."""
    if seconds is None or seconds == "":
        return "—"
    s = int(seconds)
    if s < 90:
        return ngettext("%(n)d second", "%(n)d seconds", s) % {"n": s}
    if s < 5400:
        m = round(s / 60)
        return ngettext("%(n)d minute", "%(n)d minutes", m) % {"n": m}
    h = round(s / 3600, 1)
    return _("%(n)s hours") % {"n": f"{h:g}"}


@register.simple_tag
def list_separator() -> str:
    """Between the items of an inline list: "、" in Chinese, ", " in English."""
    return pgettext("between the items of a list", ", ")


@register.simple_tag
def sentence_space() -> str:
    """Between two sentences translated apart (config.sentences)."""
    return sentences.sentence_space()


@register.simple_tag
def bracket_space() -> str:
    """Before a bracketed remark: "5.0 (1 rating)" in English; none before a full-width
    bracket, "5.0（1条评价）", which holds its own room."""
    return sentences.sentence_space()


@register.simple_tag
def label_colon() -> str:
    """After a label: "：" in Chinese, ": " in English."""
    return pgettext("after a label", ": ")


@register.filter
def percent(rate: Any) -> str:
    """0.983 → "98%"; None → "—"."""
    if rate is None or rate == "":
        return "—"
    value = float(rate)
    if value > 1:
        value /= 100
    return f"{round(value * 100):d}%"


@register.filter
def money(minor: Any, currency: str = "CNY") -> str:
    """Integer minor units → "¥49.00" (integer arithmetic, no float)."""
    return format_money(int(minor or 0), currency or "CNY")


@register.filter
def message_text(message: Any) -> str:
    """A message's text; a platform notice rendered again in the reader's language."""
    from messaging.notices import notice_text

    return notice_text(notice=getattr(message, "notice", None), body=message.body)


@register.filter
def notice_link(message: Any) -> str | None:
    """Where a platform notice leads (its consult, question or the page to act on), or None."""
    from messaging.notices import notice_link

    return notice_link(getattr(message, "notice", None))


@register.filter
def ago(seconds: Any) -> str:
    """Seconds in the past → "2 分钟前" / "2 minutes ago"."""
    s = max(0, int(seconds or 0))
    if s < 60:
        return ngettext("%(n)d second ago", "%(n)d seconds ago", s) % {"n": s}
    if s < 3600:
        m = s // 60
        return ngettext("%(n)d minute ago", "%(n)d minutes ago", m) % {"n": m}
    if s < 86400:
        h = s // 3600
        return ngettext("%(n)d hour ago", "%(n)d hours ago", h) % {"n": h}
    d = s // 86400
    return ngettext("%(n)d day ago", "%(n)d days ago", d) % {"n": d}
