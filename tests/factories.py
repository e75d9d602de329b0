"""Factories shared by every app's tests. App-specific ones live in tests/<app>/factories.py."""

from __future__ import annotations

import factory
from django.contrib.auth.hashers import make_password

from accounts.models import User
from marketplace.models import Category, LawyerProfile, Question, Region

TEST_PASSWORD = "correct-horse-battery-staple"
_PASSWORD_HASH = make_password(TEST_PASSWORD, hasher="md5")


class UserFactory(factory.django.DjangoModelFactory[User]):
    class Meta:
        model = User
        django_get_or_create = ("username",)

    username = factory.Sequence(lambda n: f"user{n:05d}")
    role = User.Role.ASKER
    password = _PASSWORD_HASH
    phone = factory.Sequence(lambda n: f"138{n:08d}")


class AskerFactory(UserFactory):
    username = factory.Sequence(lambda n: f"asker_t{n:05d}")
    role = User.Role.ASKER


class LawyerFactory(UserFactory):
    username = factory.Sequence(lambda n: f"lawyer_t{n:05d}")
    role = User.Role.LAWYER


class StaffFactory(UserFactory):
    username = factory.Sequence(lambda n: f"staff_t{n:05d}")
    role = User.Role.STAFF
    is_staff = True


def city(code: str = "370100") -> Region:
    return Region.objects.get(code=code)


def category(slug: str = "debt") -> Category:
    return Category.objects.get(slug=slug)


class LawyerProfileFactory(factory.django.DjangoModelFactory[LawyerProfile]):
    class Meta:
        model = LawyerProfile

    user = factory.SubFactory(LawyerFactory)
    license_number = factory.Sequence(lambda n: f"13701{n:011d}")
    verification = LawyerProfile.Verification.VERIFIED
    home_city = factory.LazyFunction(city)
    capacity = 3

    @factory.post_generation
    def serves(self, create, extracted, **kwargs):
        if create:
            self.regions_served.set(extracted or [self.home_city])

    @factory.post_generation
    def practises(self, create, extracted, **kwargs):
        if create:
            self.categories.set(extracted or [category()])


class QuestionFactory(factory.django.DjangoModelFactory[Question]):
    """A public question in Jinan, debt category; apps' factories override what they need."""

    class Meta:
        model = Question

    asker = factory.SubFactory(AskerFactory)
    title = factory.Sequence(lambda n: f"信用卡逾期怎么办 {n}")
    body = "信用卡欠款三万元，已经逾期半年，银行说要起诉，我该怎么办？"
    category = factory.LazyFunction(category)
    city = factory.LazyFunction(city)
    is_public = True
