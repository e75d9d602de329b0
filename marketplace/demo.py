"""Demo world, marketplace part: lawyer profiles across Shandong's 16 cities and other provinces,
three lawyers waiting for verification, and the demo asker's own questions with consults in
several states (one resolved, one in progress, one that expired unanswered).

Idempotent: profiles are made only for lawyers without one, the applicants and the demo asker's
questions only once; a question counts as made when one with its title, city and practice area
exists, whoever holds it now (after asker001 deletes the account, its questions stay with the
former account, and the fresh asker001 the next seed makes does not get them again). Consults
are history here, so their rows are written as their state machine would have left them
(matching a seed consult live would race the real worker)."""

from __future__ import annotations

import random
from datetime import timedelta

from django.contrib.auth.hashers import make_password
from django.db import transaction
from django.utils import timezone

from accounts.models import User
from marketplace.models import Category, Consult, LawyerProfile, Offer, Question, Region

# Shandong gets half the lawyers; the rest spread over these provinces' cities
OTHER_PROVINCES = ("110000", "310000", "320000", "330000", "440000", "510000", "420000")
FIRMS = ("德衡", "康桥", "众成清泰", "金诚同达", "大成", "盈科", "君合", "中伦", "国浩", "天册")
DEMO_PASSWORD = "lawline-demo"
DEMO_ASKER = "asker001"

# lawyers who registered and submitted a license: the staff verification queue
APPLICANTS = (
    ("applicant01", "370100", "13701202211000001", ("labour", "contract")),
    ("applicant02", "370200", "13702202311000002", ("traffic", "injury")),
    ("applicant03", "110100", "11101202011000003", ("criminal",)),
)

# the demo asker's questions: (title, body, category, city, public, consult outcome, lawyer)
QUESTIONS = (
    (
        "信用卡逾期三个月，银行说要起诉我怎么办？",
        "去年失业后两张信用卡一共欠了四万多，已经逾期三个月。银行客服打电话说再不还就起诉，"
        "我现在每个月只能还两千左右，能不能和银行协商分期？会不会坐牢？",
        "debt",
        "370100",
        True,
        Consult.State.RESOLVED,
        "lawyer001",
    ),
    (
        "公司拖欠工资三个月，可以申请劳动仲裁吗？",
        "我在一家装修公司做设计，已经三个月没发工资了，老板一直说资金紧张。"
        "劳动合同有，工资都是银行卡发的。想知道仲裁需要准备什么材料。",
        "labour",
        "370100",
        False,
        Consult.State.ACTIVE,
        "lawyer003",
    ),
    (
        "离婚时婚前买的房子怎么分？",
        "房子是我婚前付的首付，婚后两个人一起还贷款，房产证上只有我的名字。现在要离婚，"
        "对方要求分一半房子，合理吗？",
        "family",
        "370100",
        False,
        Consult.State.EXPIRED,
        None,
    ),
    (
        "交通事故对方全责，保险公司只赔医药费合理吗？",
        "骑电动车被小轿车撞了，交警认定对方全责，住院十天。保险公司说只赔医药费，"
        "误工费和护理费都不赔。",
        "traffic",
        "370200",
        True,
        None,
        None,
    ),
)

# (who, text) for the demo consults' chats
CHATS = {
    Consult.State.RESOLVED: (
        ("asker", "律师您好，我信用卡逾期三个月了，银行说要起诉，我该怎么办？"),
        ("lawyer", "您好。信用卡逾期一般是民事纠纷，只要不是恶意透支，不会坐牢。您有还款意愿吗？"),
        ("asker", "有的，我每个月能还两千左右。"),
        (
            "lawyer",
            "可以主动联系银行申请个性化分期，说明失业情况并提供证明，最长可以分五年。"
            "协商时保留好录音和书面材料。",
        ),
        ("asker", "明白了，谢谢律师！"),
    ),
    Consult.State.ACTIVE: (
        ("asker", "律师您好，公司拖欠我三个月工资，我能申请劳动仲裁吗？"),
        ("lawyer", "可以的。请问您的劳动合同、工资流水和考勤记录都还在吗？"),
        ("asker", "合同和银行流水都有，考勤是钉钉打卡的。"),
    ),
}


def seed(stdout) -> None:
    _lawyer_profiles(stdout)
    _applicants(stdout)
    _demo_asker_questions(stdout)


def _lawyer_profiles(stdout) -> None:
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
        # odd numbers take Shandong's cities in turn (lawyer001 Jinan, lawyer003 the next...)
        city = shandong[(number // 2) % len(shandong)] if number % 2 == 1 else rng.choice(others)
        profile = LawyerProfile.objects.create(
            user=lawyer,
            license_number=f"1{city.code[:4]}{2010 + number % 14}{number:07d}",
            firm=f"{rng.choice(FIRMS)}律师事务所",
            years_in_practice=rng.randint(2, 25),
            verification=LawyerProfile.Verification.VERIFIED,
            verified_at=now,
            submitted_at=now,
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


def _applicants(stdout) -> None:
    missing = [a for a in APPLICANTS if not User.objects.filter(username=a[0]).exists()]
    if not missing:
        return
    password = make_password(DEMO_PASSWORD)
    now = timezone.now()
    for offset, (username, city_code, license_number, slugs) in enumerate(missing):
        with transaction.atomic():
            user = User.objects.create(username=username, role=User.Role.LAWYER, password=password)
            city = Region.objects.get(code=city_code)
            profile = LawyerProfile.objects.create(
                user=user,
                license_number=license_number,
                firm=f"{FIRMS[offset]}律师事务所",
                years_in_practice=3 + offset,
                verification=LawyerProfile.Verification.PENDING,
                submitted_at=now - timedelta(hours=5 - offset),
                home_city=city,
            )
            profile.regions_served.set([city])
            profile.categories.set(Category.objects.filter(slug__in=slugs))
    stdout.write(f"  marketplace: {len(missing)} lawyers waiting for verification")


def _demo_asker_questions(stdout) -> None:
    from messaging.services import conversation_open_for_consult, message_import
    from qa.search import index_question

    asker = User.objects.filter(username=DEMO_ASKER).first()
    if asker is None:
        return
    now = timezone.now()
    made = 0
    for days_ago, (title, body, slug, city, public, outcome, lawyer_name) in zip(
        (6, 2, 1, 4), QUESTIONS, strict=True
    ):
        if Question.objects.filter(title=title, city_id=city, category__slug=slug).exists():
            continue
        made += 1
        asked = now - timedelta(days=days_ago, hours=3)
        with transaction.atomic():
            question = Question.objects.create(
                asker=asker,
                title=title,
                body=body,
                category=Category.objects.get(slug=slug),
                city=Region.objects.get(code=city),
                is_public=public,
                is_anonymous=True,
            )
            Question.objects.filter(pk=question.pk).update(created_at=asked)
            index_question(question)
            if outcome is None:
                continue
            lawyer = User.objects.filter(username=lawyer_name).first() if lawyer_name else None
            consult = _past_consult(question, asked, outcome, lawyer)
            if lawyer is not None:
                conversation = conversation_open_for_consult(consult=consult)
                for n, (who, text) in enumerate(CHATS.get(outcome, ())):
                    message_import(
                        sender=asker if who == "asker" else lawyer,
                        conversation_id=conversation.pk,
                        client_id=f"demo-consult:{consult.pk}:{n}",
                        body=text,
                        sent_at=asked + timedelta(minutes=2 + 3 * n),
                    )
    if made:
        stdout.write(f"  marketplace: {made} questions and consults for {DEMO_ASKER}")


def _past_consult(question: Question, asked, outcome: str, lawyer: User | None) -> Consult:
    """A consult as the state machine leaves it: queued at once (free), offered half a minute
    later, taken within a minute and answered within three (or never taken, and expired)."""
    queued = asked + timedelta(seconds=20)
    offered = queued + timedelta(seconds=1)
    fields: dict = {
        "question": question,
        "asker": question.asker,
        "state": outcome,
        "queued_at": queued,
        "scope_widened_at": queued,
        "first_offered_at": offered,
        "search_round": 1,
        "sla_deadline": queued + timedelta(minutes=10),
    }
    if lawyer is not None:
        fields |= {
            "lawyer": lawyer,
            "accepted_at": offered + timedelta(seconds=40),
            "first_reply_at": offered + timedelta(minutes=2, seconds=50),
        }
        if outcome == Consult.State.RESOLVED:
            fields["closed_at"] = offered + timedelta(minutes=25)
    else:
        fields |= {
            "expired_at": fields["sla_deadline"],
            "closed_at": fields["sla_deadline"],
        }
    consult = Consult.objects.create(**fields)
    Consult.objects.filter(pk=consult.pk).update(created_at=asked)
    if lawyer is not None:
        offer = Offer.objects.create(
            consult=consult,
            lawyer=lawyer,
            state=Offer.State.ACCEPTED,
            scope=Consult.Scope.CITY,
            search_round=1,
            expires_at=offered + timedelta(seconds=60),
            responded_at=fields["accepted_at"],
        )
        Offer.objects.filter(pk=offer.pk).update(created_at=offered)
    return consult
