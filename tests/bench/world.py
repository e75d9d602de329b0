"""The rows the marketplace figures need, written in bulk: verified lawyers spread over
Shandong's 16 cities and seven other provinces (as the demo world), askers with questions."""

from __future__ import annotations

import random

from tests.bench.wsclients import create_users

OTHER_PROVINCES = ("110000", "310000", "320000", "330000", "440000", "510000", "420000")


def cities() -> list[tuple[str, str]]:
    from marketplace.models import Region

    shandong = list(Region.objects.filter(parent_id="370000").values_list("code", "parent_id"))
    others = list(
        Region.objects.filter(parent_id__in=OTHER_PROVINCES).values_list("code", "parent_id")
    )
    return shandong + others


def lawyers(count: int, *, prefix: str = "benchlawyer", seed: int = 11) -> list[int]:
    """Verified lawyers with a home city, served regions (home city, sometimes its province)
    and three practice areas each. Idempotent."""
    from django.utils import timezone

    from marketplace.models import Category, LawyerProfile

    rng = random.Random(seed)
    ids = create_users(prefix, count, "lawyer")
    have = set(LawyerProfile.objects.filter(user_id__in=ids).values_list("user_id", flat=True))
    places = cities()
    categories = list(Category.objects.values_list("pk", flat=True))
    now = timezone.now()
    new = [uid for uid in ids if uid not in have]
    homes = {uid: places[n % len(places)] for n, uid in enumerate(new)}
    profiles = LawyerProfile.objects.bulk_create(
        [
            LawyerProfile(
                user_id=uid,
                license_number=f"1370{uid:011d}",
                firm="Bench Law Firm",
                years_in_practice=rng.randint(1, 25),
                verification=LawyerProfile.Verification.VERIFIED,
                verified_at=now,
                home_city_id=homes[uid][0],
                capacity=5,
                price=0,  # free consults go only to lawyers whose price is 0
            )
            for uid in new
        ],
        batch_size=2000,
    )
    served = LawyerProfile.regions_served.through
    practised = LawyerProfile.categories.through
    served_rows, practised_rows = [], []
    for profile in profiles:
        city, province = homes[profile.user_id]
        served_rows.append(served(lawyerprofile_id=profile.pk, region_id=city))
        if rng.random() < 0.4:
            served_rows.append(served(lawyerprofile_id=profile.pk, region_id=province))
        for category in rng.sample(categories, k=min(3, len(categories))):
            practised_rows.append(practised(lawyerprofile_id=profile.pk, category_id=category))
    served.objects.bulk_create(served_rows, batch_size=5000)
    practised.objects.bulk_create(practised_rows, batch_size=5000)
    return ids


def questions(asker_ids: list[int], *, seed: int = 5) -> list[int]:
    """One open question per asker, in the cities the bench lawyers live in, indexed for
    search as the question service does."""
    from marketplace.models import Category, Question

    rng = random.Random(seed)
    places = cities()
    categories = list(Category.objects.values_list("pk", flat=True))
    rows = Question.objects.bulk_create(
        [
            Question(
                asker_id=uid,
                title=f"信用卡逾期{n}个月，银行起诉怎么办",
                body="我的信用卡逾期了三个月，银行打电话说要起诉，我现在该怎么处理？" * 3,
                category_id=rng.choice(categories),
                city_id=places[n % len(places)][0],
                is_public=True,
            )
            for n, uid in enumerate(asker_ids)
        ],
        batch_size=2000,
    )
    return [q.pk for q in rows]
