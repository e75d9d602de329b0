"""marketplace.ranking: a pure function, tested without a database."""

from __future__ import annotations

from dataclasses import replace

from marketplace import ranking
from marketplace.ranking import Candidate

BASE = Candidate(
    lawyer_id=1,
    closeness=ranking.SERVES_CITY,
    category_count=3,
    response_p50_seconds=120,
    rating_avg=4.5,
    rating_count=20,
    active_consults=0,
    capacity=3,
)


def ids(ranked: list[ranking.Ranked]) -> list[int]:
    return [r.candidate.lawyer_id for r in ranked]


def test_lawyer_serving_the_city_beats_one_serving_only_the_province():
    # given
    local = replace(BASE, lawyer_id=2, closeness=ranking.SERVES_CITY)
    provincial = replace(BASE, lawyer_id=1, closeness=ranking.SERVES_PROVINCE)
    # when
    ranked = ranking.rank([provincial, local], limit=2)
    # then
    assert ids(ranked) == [2, 1]


def test_region_closeness_orders_all_four_levels():
    candidates = [
        replace(BASE, lawyer_id=level + 1, closeness=level)
        for level in (ranking.ELSEWHERE, ranking.IN_PROVINCE, ranking.SERVES_PROVINCE)
    ] + [replace(BASE, lawyer_id=9, closeness=ranking.SERVES_CITY)]

    ranked = ranking.rank(candidates, limit=4)

    assert ids(ranked) == [
        9,
        ranking.SERVES_PROVINCE + 1,
        ranking.IN_PROVINCE + 1,
        ranking.ELSEWHERE + 1,
    ]


def test_faster_responder_ranks_higher():
    slow = replace(BASE, lawyer_id=1, response_p50_seconds=900)
    fast = replace(BASE, lawyer_id=2, response_p50_seconds=45)

    assert ids(ranking.rank([slow, fast], limit=2)) == [2, 1]


def test_unknown_response_time_sits_between_fast_and_slow():
    assert (
        ranking.response_factor(30) > ranking.response_factor(None) > ranking.response_factor(900)
    )


def test_many_good_ratings_beat_a_single_perfect_one():
    single = replace(BASE, lawyer_id=1, rating_avg=5.0, rating_count=1)
    established = replace(BASE, lawyer_id=2, rating_avg=4.8, rating_count=50)

    assert ids(ranking.rank([single, established], limit=2)) == [2, 1]


def test_lower_load_ranks_higher():
    busy = replace(BASE, lawyer_id=1, active_consults=2, capacity=3)
    idle = replace(BASE, lawyer_id=2, active_consults=0, capacity=3)

    assert ids(ranking.rank([busy, idle], limit=2)) == [2, 1]


def test_specialist_ranks_above_generalist():
    generalist = replace(BASE, lawyer_id=1, category_count=8)
    specialist = replace(BASE, lawyer_id=2, category_count=1)

    assert ids(ranking.rank([generalist, specialist], limit=2)) == [2, 1]


def test_preferred_lawyer_comes_first_whatever_the_score():
    best = replace(BASE, lawyer_id=1)
    worst = replace(
        BASE,
        lawyer_id=2,
        closeness=ranking.ELSEWHERE,
        response_p50_seconds=3000,
        rating_avg=1.0,
        active_consults=2,
    )

    ranked = ranking.rank([best, worst], limit=2, preferred_lawyer_id=2)

    assert ids(ranked) == [2, 1]


def test_rank_keeps_only_the_top_k():
    candidates = [replace(BASE, lawyer_id=i, response_p50_seconds=i * 10) for i in range(1, 8)]

    assert ids(ranking.rank(candidates, limit=3)) == [1, 2, 3]


def test_ties_go_to_the_lower_lawyer_id():
    candidates = [replace(BASE, lawyer_id=i) for i in (5, 3, 4)]

    assert ids(ranking.rank(candidates, limit=3)) == [3, 4, 5]


def test_factors_stay_within_zero_and_one():
    assert ranking.load_factor(5, 3) == 0.0
    assert ranking.load_factor(0, 0) == 0.0
    assert ranking.rating_factor(None, 0) == ranking.rating_factor(None, 99)
    assert 0.0 <= ranking.rating_factor(1.0, 1000) <= ranking.rating_factor(5.0, 1000) <= 1.0
    assert ranking.focus_factor(0) == 1.0
    assert 0.0 < ranking.score(BASE) <= 1.0
