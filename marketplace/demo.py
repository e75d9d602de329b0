"""Demo world, marketplace part: lawyer profiles across Shandong's 16 cities and other provinces."""

from __future__ import annotations

import random

from django.utils import timezone

from accounts.models import User
from marketplace.models import Category, LawyerProfile, Region

# Shandong gets half the lawyers; the rest spread over these provinces' cities
OTHER_PROVINCES = ("110000", "310000", "320000", "330000", "440000", "510000", "420000")
FIRMS = ("德衡", "康桥", "众成清泰", "金诚同达", "大成", "盈科", "君合", "中伦", "国浩", "天册")


def seed(stdout) -> None:
    rng = random.Random(37)
    shandong = list(Region.objects.filter(parent_id="370000").order_by("code"))
    others = list(Region.objects.filter(parent_id__in=OTHER_PROVINCES).order_by("code"))
    categories = list(Category.objects.all())
    lawyers = list(
        User.objects.filter(role=User.Role.LAWYER, username__startswith="lawyer")
        .exclude(lawyer_profile__isnull=False)
        .order_by("username")
    )
    now = timezone.now()
    for index, lawyer in enumerate(lawyers):
        number = int(lawyer.username.removeprefix("lawyer") or 0)
        # every Shandong city gets lawyers; lawyer001 is in Jinan
        city = shandong[(number - 1) % len(shandong)] if number % 2 == 1 else rng.choice(others)
        profile = LawyerProfile.objects.create(
            user=lawyer,
            license_number=f"1{city.code[:4]}{2010 + number % 14}{number:07d}",
            firm=f"{rng.choice(FIRMS)}律师事务所",
            years_in_practice=rng.randint(2, 25),
            verification=LawyerProfile.Verification.VERIFIED,
            verified_at=now,
            home_city=city,
            capacity=rng.choice((2, 3, 3, 4, 5)),
        )
        served = [city]
        if rng.random() < 0.4 and city.parent is not None:
            served.append(city.parent)  # serves the whole province
        profile.regions_served.set(served)
        profile.categories.set(rng.sample(categories, k=rng.randint(2, 5)))
        if index and index % 100 == 0:
            stdout.write(f"  marketplace: {index} lawyer profiles")
    stdout.write(f"  marketplace: {LawyerProfile.objects.count()} lawyer profiles")
