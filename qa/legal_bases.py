"""Legal bases cited by an answer: a statute and an article, validated and normalised."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

from django.conf import settings

from qa.errors import InvalidLegalBasis
from qa.user_text import user_text

_NUMERAL = "[零〇一二三四五六七八九十百千0-9]+"
_ARTICLE = re.compile(
    rf"^第{_NUMERAL}条(?:之[一二三四五六七八九十]+)?(?:第{_NUMERAL}款)?(?:第{_NUMERAL}项)?$"
)
_ARTICLE_NUMBER = re.compile(r"^(?:article|art\.?)?\s*(\d{1,4})$", re.IGNORECASE)
_STATUTE_BRACKETS = "《》<>〈〉「」\"'“”"


@dataclass(frozen=True)
class LegalBasisData:
    statute: str
    article: str
    excerpt: str = ""

    @property
    def citation(self) -> str:
        return f"《{self.statute}》{self.article}"

    def as_dict(self) -> dict[str, str]:
        """As stored in an edit (AnswerRevision.legal_bases) and written by the services."""
        return {"statute": self.statute, "article": self.article, "excerpt": self.excerpt}


def _clean(value: str) -> str:
    return re.sub(r"\s+", "", unicodedata.normalize("NFKC", user_text(value)))


def legal_basis_clean(*, statute: str, article: str, excerpt: str = "") -> LegalBasisData:
    """《刑法》 + 第二百六十四条 → LegalBasisData("刑法", "第二百六十四条"); "264" and
    "Article 264" become 第264条."""
    name = _clean(statute).strip(_STATUTE_BRACKETS)
    number = _clean(article)
    if match := _ARTICLE_NUMBER.match(number):
        number = f"第{match.group(1)}条"
    if not (2 <= len(name) <= 60) or name.isdigit() or not _ARTICLE.match(number):
        raise InvalidLegalBasis(fields={"legal_bases": InvalidLegalBasis.message})
    return LegalBasisData(statute=name, article=number, excerpt=user_text(excerpt)[:2000])


def legal_bases_clean(rows: list[dict]) -> list[LegalBasisData]:
    """Validate a list of {"statute", "article", "excerpt"?}; blank rows are skipped and
    repeated citations kept once."""
    cleaned: dict[str, LegalBasisData] = {}
    for row in rows:
        if not (row.get("statute") or "").strip() and not (row.get("article") or "").strip():
            continue
        basis = legal_basis_clean(
            statute=row.get("statute") or "",
            article=row.get("article") or "",
            excerpt=row.get("excerpt") or "",
        )
        cleaned.setdefault(basis.citation, basis)
    if len(cleaned) > settings.QA_ANSWER_MAX_LEGAL_BASES:
        raise InvalidLegalBasis(
            fields={"legal_bases": f"at most {settings.QA_ANSWER_MAX_LEGAL_BASES}"}
        )
    return list(cleaned.values())
