"""Safety filters for lawyers' public answers.

A lawyer may not promise an outcome (律师执业行为规范 forbids 承诺胜诉 and guarantees of
results), and a public answer is not the place to move the client off the platform. Answers
that do either are flagged: the moderation queue shows them first, with what matched."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

from qa.masking import contains_personal_data

OUTCOME_PROMISE = "outcome_promise"
CONTACT_DETAILS = "contact_details"

# Chinese: matched against NFKC-normalised text with spaces removed
_PROMISES_ZH = re.compile(
    "|".join(
        (
            r"(?:百分百|百分之百|100%|一百%|十成|十拿九稳)(?:的)?(?:胜诉|打赢|能赢|赢|胜|成功|追回|拿回|无罪|判缓|撤案)",
            r"(?:包|保)(?:你|您)?(?:赢|胜|胜诉|打赢|过(?!户)|成功|撤案|无罪|判缓|缓刑|不坐牢|拿回|追回|要回)",
            r"(?:稳赢|必胜|必赢|稳胜|稳操胜券|胜券在握|铁定赢|铁定胜诉)",
            r"(?:保证|担保|确保|承诺|肯定|一定|绝对|必定|必然)(?:能|会|可以)?(?:帮你|帮您|让你|让您)?(?:胜诉|打赢|赢|判缓|缓刑|无罪|撤案|不坐牢|不用坐牢|轻判|全额拿回|全部追回|要回全部|拿到全部)",
            r"胜诉率(?:100%|百分百|百分之百)",
            r"不可能(?:输|败诉)",
        )
    )
)
# English: matched against lower-cased text with single spaces
_PROMISES_EN = re.compile(
    "|".join(
        (
            r"\bguarantee(?:d|s)?\b(?: (?:to|you|that|a|an|the|you'll|you will|your|we|will))* (?:win|victory|success|acquittal|outcome|result|refund)",
            r"\b(?:100 ?%|hundred percent) (?:sure |certain |guaranteed )?(?:to )?(?:win|victory|success)",
            r"\b(?:sure|certain|bound) to (?:win|succeed|beat this)",
            r"\b(?:can't|cannot|can not|won't|will not) lose\b",
            r"\bwill definitely (?:win|succeed|be acquitted|get your money back)",
        )
    )
)
# a promise right after one of these is the honest "nobody can promise ..."
_NEGATION_ZH = ("不", "无法", "没法", "没有", "没人", "谁也", "难以", "未必")
_NEGATION_EN = re.compile(r"\b(?:no|not|never|cannot|can't|nobody|no one|without)\b")


# contact handles lawyers use to take a client off the platform
_CONTACT_HANDLES = re.compile(
    r"(?:微信|vx|v信|wx|weixin|wechat|qq|加我|联系我|私聊我|call me|whatsapp)[:：号]?\s*[A-Za-z0-9_-]{5,}",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class Flag:
    code: str
    match: str

    def as_dict(self) -> dict[str, str]:
        return {"code": self.code, "match": self.match}


def _negated_zh(text: str, start: int) -> bool:
    return any(cue in text[max(0, start - 4) : start] for cue in _NEGATION_ZH)


def _negated_en(text: str, start: int) -> bool:
    return _NEGATION_EN.search(text[max(0, start - 30) : start]) is not None


def find_outcome_promises(text: str) -> list[str]:
    """The phrases of `text` that promise an outcome (normalised), in order of appearance."""
    plain = unicodedata.normalize("NFKC", text or "").lower()
    compact = re.sub(r"\s+", "", plain)
    spaced = re.sub(r"\s+", " ", plain)
    found = [
        m.group(0) for m in _PROMISES_ZH.finditer(compact) if not _negated_zh(compact, m.start())
    ]
    found += [
        m.group(0) for m in _PROMISES_EN.finditer(spaced) if not _negated_en(spaced, m.start())
    ]
    return list(dict.fromkeys(found))


def review_flags(text: str) -> list[Flag]:
    """Everything in an answer that a reviewer must look at before it shows."""
    flags = [Flag(OUTCOME_PROMISE, phrase) for phrase in find_outcome_promises(text)]
    normalised = unicodedata.normalize("NFKC", text or "")
    if contains_personal_data(normalised) or _CONTACT_HANDLES.search(normalised):
        flags.append(Flag(CONTACT_DETAILS, ""))
    return flags
