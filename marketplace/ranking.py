"""Which candidate lawyers get a consult's offers first. A pure function of plain data, so the
ordering is tested without a database and tuned in one place.

Each factor is scaled to 0..1 and weighted:
- region closeness: serves the asker's city > serves the province > lives in the province >
  anywhere else (a nationwide search);
- category focus: a lawyer practising few areas is likelier a specialist in this one;
- recent response time (p50 of first replies): faster is better, unknown is middling;
- rating: a Bayesian average, so one 5-star rating does not beat fifty 4.8s;
- current load: free capacity is better, spreading consults across lawyers.
The lawyer the asker named always comes first.
"""

from __future__ import annotations

from dataclasses import dataclass

# region closeness levels
SERVES_CITY = 0
SERVES_PROVINCE = 1
IN_PROVINCE = 2
ELSEWHERE = 3

WEIGHTS = {
    "region": 0.30,
    "response": 0.25,
    "rating": 0.20,
    "load": 0.15,
    "focus": 0.10,
}
CLOSENESS_SCORE = {SERVES_CITY: 1.0, SERVES_PROVINCE: 0.75, IN_PROVINCE: 0.5, ELSEWHERE: 0.0}
# response time at which the response factor is 0.5
RESPONSE_HALF_SECONDS = 120.0
UNKNOWN_RESPONSE_SCORE = 0.5
# Bayesian prior of the rating: a new lawyer counts as PRIOR_COUNT ratings of PRIOR_MEAN
RATING_PRIOR_MEAN = 4.0
RATING_PRIOR_COUNT = 5
PREFERRED_SCORE = 1_000.0


@dataclass(frozen=True)
class Candidate:
    lawyer_id: int
    closeness: int
    category_count: int
    response_p50_seconds: int | None
    rating_avg: float | None
    rating_count: int
    active_consults: int
    capacity: int


@dataclass(frozen=True)
class Ranked:
    candidate: Candidate
    score: float


def response_factor(p50_seconds: int | None) -> float:
    if p50_seconds is None:
        return UNKNOWN_RESPONSE_SCORE
    return RESPONSE_HALF_SECONDS / (RESPONSE_HALF_SECONDS + max(p50_seconds, 0))


def rating_factor(avg: float | None, count: int) -> float:
    count = max(count, 0) if avg is not None else 0
    mean = (float(avg or 0) * count + RATING_PRIOR_MEAN * RATING_PRIOR_COUNT) / (
        count + RATING_PRIOR_COUNT
    )
    return min(max((mean - 1.0) / 4.0, 0.0), 1.0)


def load_factor(active: int, capacity: int) -> float:
    if capacity <= 0:
        return 0.0
    return min(max(1.0 - active / capacity, 0.0), 1.0)


def focus_factor(category_count: int) -> float:
    return 1.0 / max(category_count, 1)


def score(candidate: Candidate) -> float:
    return (
        WEIGHTS["region"] * CLOSENESS_SCORE.get(candidate.closeness, 0.0)
        + WEIGHTS["response"] * response_factor(candidate.response_p50_seconds)
        + WEIGHTS["rating"] * rating_factor(candidate.rating_avg, candidate.rating_count)
        + WEIGHTS["load"] * load_factor(candidate.active_consults, candidate.capacity)
        + WEIGHTS["focus"] * focus_factor(candidate.category_count)
    )


def rank(
    candidates: list[Candidate], *, limit: int, preferred_lawyer_id: int | None = None
) -> list[Ranked]:
    """The best `limit` candidates, best first; ties go to the lower lawyer id (stable)."""
    ranked = [
        Ranked(
            c,
            PREFERRED_SCORE if c.lawyer_id == preferred_lawyer_id else round(score(c), 6),
        )
        for c in candidates
    ]
    ranked.sort(key=lambda r: (-r.score, r.candidate.lawyer_id))
    return ranked[: max(limit, 0)]
