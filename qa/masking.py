"""Personal data in public text is masked on display: mainland mobile and landline numbers,
resident ID-card numbers (18 and old 15 digit), bank card numbers and e-mail addresses.

One pass of one regular expression: at each position the alternatives are tried in order, so
an 18-digit ID number is never half-taken for a bank card or a phone. Digit runs are anchored
on both sides (no digit before or after), so amounts and case numbers inside longer numbers
are left alone."""

from __future__ import annotations

import re

from billing.masking import mask_email, mask_phone

__all__ = ["contains_personal_data", "mask_personal_data", "mask_phone"]

_DAY = r"(?:0[1-9]|[12]\d|3[01])"
_MONTH = r"(?:0[1-9]|1[0-2])"

_PERSONAL_DATA = re.compile(
    "|".join(
        (
            # 18-digit ID: 6-digit region, birth date 18xx-20xx, 3-digit sequence, check digit
            rf"(?P<id18>(?<![0-9A-Za-z])[1-9]\d{{5}}(?:18|19|20)\d{{2}}{_MONTH}{_DAY}\d{{3}}[\dXx](?![0-9A-Za-z]))",
            # 15-digit ID (issued before 1999): 6-digit region, yymmdd, 3-digit sequence
            rf"(?P<id15>(?<!\d)[1-9]\d{{5}}\d{{2}}{_MONTH}{_DAY}\d{{3}}(?!\d))",
            # bank cards: 16 to 19 digits, optionally grouped by four
            r"(?P<card>(?<!\d)\d{4}(?:[ -]?\d{4}){3}(?:[ -]?\d{1,3})?(?![\d]))",
            # mobile, with an optional +86 / 0086 / 86 prefix and 3-4-4 grouping
            r"(?P<mobile>(?<!\d)(?:(?:\+|00)?86[ -]?)?1[3-9]\d[ -]?\d{4}[ -]?\d{4}(?!\d))",
            # landline with area code: 010-12345678, 0531 8888 6666, (0532)88886666
            r"(?P<landline>(?<!\d)[(（]?0\d{2,3}[)）]?[ -]?\d{3,4}[ -]?\d{4}(?!\d))",
            r"(?P<email>(?<![A-Za-z0-9._%+-])[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+)",
        )
    )
)


def _digits(text: str) -> str:
    return "".join(ch for ch in text if ch.isdigit())


def _mask_match(match: re.Match[str]) -> str:
    kind = match.lastgroup
    text = match.group(0)
    if kind in ("id18", "id15"):
        # keep the province and the check digits: no birth date, no city
        return text[:3] + "*" * (len(text) - 5) + text[-2:]
    if kind == "card":
        digits = _digits(text)
        return digits[:4] + "*" * (len(digits) - 8) + digits[-4:]
    if kind == "mobile":
        return mask_phone(_digits(text)[-11:])
    if kind == "landline":
        digits = _digits(text)
        area_length = 3 if digits[:2] in ("01", "02") else 4
        return f"{digits[:area_length]}-****{digits[-4:]}"
    return mask_email(text)


def mask_personal_data(text: str) -> str:
    """`text` with phone, ID-card, bank-card numbers and e-mail addresses masked."""
    if not text:
        return text
    return _PERSONAL_DATA.sub(_mask_match, text)


def contains_personal_data(text: str) -> bool:
    return bool(text) and _PERSONAL_DATA.search(text) is not None
