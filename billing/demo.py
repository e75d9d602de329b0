"""Demo world, billing part: lawyers' prices, and a month of past consults with their payments,
ledger entries and ratings, so the figures (response times, satisfaction, revenue, the live
ticker) come from rows like real ones. Bulk inserts; skipped once it has run (idempotent)."""

from __future__ import annotations

import random
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.utils import timezone

from accounts.models import User
from billing.metrics import lawyer_profiles_refresh_metrics
from billing.models import LedgerEntry, Payment, Rating
from billing.prices import fee_split, platform_fee_bp
from marketplace.models import Consult, LawyerProfile, Offer, Question
from messaging.models import Conversation, Message, Participant

PAST_CONSULTS = 600
DEMO_REFERENCE = "demo_pi_"
PRICES = (2900, 3900, 4900, 4900, 6900, 9900, 15900, 19900)
FREE_LAST_DIGITS = (0, 1)

QUESTIONS = (
    (
        "朋友借钱不还，只有微信聊天记录能起诉吗？",
        "去年借给朋友三万元，没有借条，只有微信转账和聊天记录。",
    ),
    ("信用卡逾期半年，银行说要起诉怎么办？", "欠款两万多，现在每天接到催收电话，想协商分期。"),
    ("公司拖欠两个月工资，怎么申请劳动仲裁？", "离职后公司一直拖着不发工资，也没有签劳动合同。"),
    (
        "交通事故对方全责，保险公司赔偿太低怎么办？",
        "电动车被汽车撞了，住院十天，保险公司只愿意赔医药费。",
    ),
    ("离婚时婚前买的房子怎么分？", "房子是我婚前付的首付，婚后一起还贷款。"),
    ("房东不退押金合法吗？", "租期到了正常退租，房东以墙面有污渍为由扣了全部押金。"),
    ("网购买到假货，商家拒绝退款怎么办？", "平台客服也不处理，金额八百元。"),
    ("被公司无故辞退，能要多少赔偿？", "工作三年，月薪八千，公司说业务调整让我明天不用来了。"),
)
REPLIES = (
    "您好，我看了您的情况。请先把相关的聊天记录和转账凭证整理好发给我。",
    "您好，这种情况可以主张权利，我先问您几个细节。",
    "您好，证据是关键，您手上有哪些书面材料？",
    "您好，建议先固定证据，我给您讲一下具体步骤。",
)
SCORES = (5,) * 70 + (4,) * 20 + (3,) * 5 + (2,) * 3 + (1,) * 2


def seed(stdout) -> None:
    if Payment.objects.filter(gateway_reference__startswith=DEMO_REFERENCE).exists():
        stdout.write("  billing: demo payments already seeded")
        return
    rng = random.Random(5151)
    profiles = _price_lawyers(rng)
    askers = list(
        User.objects.filter(role=User.Role.ASKER, username__startswith="asker").order_by("pk")
    )
    if not profiles or not askers:
        stdout.write("  billing: no demo lawyers or askers; nothing to seed")
        return
    consults = _past_consults(rng, profiles, askers, timezone.now())
    updated = lawyer_profiles_refresh_metrics()
    stdout.write(
        f"  billing: {len(profiles)} lawyer prices, {consults} past consults, "
        f"{Payment.objects.count()} payments, {LedgerEntry.objects.count()} ledger entries, "
        f"{Rating.objects.count()} ratings, {updated} lawyer figures"
    )


def _price_lawyers(rng: random.Random) -> list[LawyerProfile]:
    profiles = list(
        LawyerProfile.objects.filter(
            user__username__startswith="lawyer",
            verification=LawyerProfile.Verification.VERIFIED,
            home_city__isnull=False,
        )
        .select_related("user", "home_city")
        .prefetch_related("categories")
        .order_by("pk")
    )
    for profile in profiles:
        number = int(profile.user.username.removeprefix("lawyer") or 0)
        # numbers ending in 0 or 1 answer free consults: lawyer001 and a lawyer in every
        # Shandong city among them (free consults go only to lawyers whose price is 0)
        profile.price = 0 if number % 10 in FREE_LAST_DIGITS else rng.choice(PRICES)
        profile.currency = "CNY"
    LawyerProfile.objects.bulk_update(profiles, ["price", "currency"], batch_size=500)
    return profiles


def _past_consults(
    rng: random.Random, profiles: list[LawyerProfile], askers: list[User], now: datetime
) -> int:
    fee_bp = platform_fee_bp()
    plans: list[dict[str, Any]] = []
    for n in range(PAST_CONSULTS):
        profile = rng.choice(profiles)
        categories = list(profile.categories.all())
        if not categories:
            continue
        queued = now - timedelta(seconds=rng.randint(600, 29 * 86400))
        widened = rng.random() < 0.15
        offered = queued + timedelta(
            seconds=rng.randint(300, 480) if widened else rng.randint(1, 40)
        )
        accepted = offered + timedelta(seconds=rng.randint(4, 60))
        outcome = rng.choices(("resolved", "expired", "refunded"), weights=(92, 6, 2))[0]
        reply = min(
            accepted + timedelta(seconds=int(rng.expovariate(1 / 70)) + 5),
            queued + timedelta(seconds=settings.CONSULT_SLA_SECONDS - 5),
        )
        plans.append(
            {
                "n": n,
                "profile": profile,
                "asker": rng.choice(askers),
                "category": rng.choice(categories),
                "text": rng.choice(QUESTIONS),
                "reply_text": rng.choice(REPLIES),
                "queued": queued,
                "offered": offered,
                "accepted": accepted,
                "reply": reply,
                "closed": reply + timedelta(minutes=rng.randint(8, 90)),
                "outcome": outcome if accepted < reply else "expired",
                "score": rng.choice(SCORES) if rng.random() < 0.85 else None,
            }
        )

    questions = Question.objects.bulk_create(
        [
            Question(
                asker=p["asker"],
                title=p["text"][0],
                body=p["text"][1],
                category=p["category"],
                city=p["profile"].home_city,
                is_public=False,
                status=Question.Status.CLOSED,
            )
            for p in plans
        ]
    )
    consults = []
    for plan, question in zip(plans, questions, strict=True):
        question.created_at = plan["queued"] - timedelta(seconds=90)
        profile, outcome = plan["profile"], plan["outcome"]
        answered = outcome != "expired"
        consults.append(
            Consult(
                question=question,
                asker=plan["asker"],
                lawyer=profile.user if answered else None,
                state=Consult.State(outcome),
                is_paid=profile.price > 0,
                price=profile.price,
                currency="CNY",
                search_scope=Consult.Scope.PROVINCE
                if plan["offered"] - plan["queued"] > timedelta(seconds=200)
                else Consult.Scope.CITY,
                paid_at=plan["queued"] if profile.price > 0 else None,
                queued_at=plan["queued"],
                first_offered_at=plan["offered"],
                accepted_at=plan["accepted"] if answered else None,
                first_reply_at=plan["reply"] if answered else None,
                sla_deadline=plan["queued"] + timedelta(seconds=settings.CONSULT_SLA_SECONDS),
                closed_at=plan["closed"]
                if answered
                else plan["queued"] + timedelta(seconds=settings.CONSULT_SLA_SECONDS),
                expired_at=None
                if answered
                else plan["queued"] + timedelta(seconds=settings.CONSULT_SLA_SECONDS),
                refunded_at=plan["closed"] + timedelta(hours=2) if outcome == "refunded" else None,
            )
        )
    Consult.objects.bulk_create(consults)
    Question.objects.bulk_update(questions, ["created_at"], batch_size=500)
    for plan, consult in zip(plans, consults, strict=True):
        consult.created_at = plan["queued"] - timedelta(seconds=60)
    Consult.objects.bulk_update(consults, ["created_at"], batch_size=500)

    _offers(plans, consults)
    _conversations(plans, consults)
    _payments(plans, consults, fee_bp)
    _ratings(plans, consults)
    return len(consults)


def _offers(plans: list[dict[str, Any]], consults: list[Consult]) -> None:
    offers = []
    for plan, consult in zip(plans, consults, strict=True):
        answered = consult.lawyer_id is not None
        offers.append(
            Offer(
                consult=consult,
                lawyer=plan["profile"].user,
                state=Offer.State.ACCEPTED if answered else Offer.State.EXPIRED,
                scope=consult.search_scope,
                expires_at=plan["offered"] + timedelta(seconds=60),
                responded_at=plan["accepted"] if answered else None,
            )
        )
    Offer.objects.bulk_create(offers)
    for plan, offer in zip(plans, offers, strict=True):
        offer.created_at = plan["offered"]
    Offer.objects.bulk_update(offers, ["created_at"], batch_size=500)


def _conversations(plans: list[dict[str, Any]], consults: list[Consult]) -> None:
    answered = [(p, c) for p, c in zip(plans, consults, strict=True) if c.lawyer_id]
    conversations = Conversation.objects.bulk_create(
        [
            Conversation(
                kind=Conversation.Kind.CONSULT,
                key=f"consult:{consult.pk}",
                last_seq=2,
                last_message_at=plan["reply"],
            )
            for plan, consult in answered
        ]
    )
    participants, messages = [], []
    for (plan, consult), conversation in zip(answered, conversations, strict=True):
        consult.conversation = conversation
        conversation.created_at = plan["accepted"]
        participants.append(
            Participant(conversation=conversation, user_id=consult.asker_id, last_read_seq=2)
        )
        participants.append(
            Participant(conversation=conversation, user=consult.lawyer, last_read_seq=2)
        )
        messages.append(
            Message(
                conversation=conversation,
                seq=1,
                sender_id=consult.asker_id,
                body=plan["text"][1],
                client_id=f"demo-{consult.pk}-1",
            )
        )
        messages.append(
            Message(
                conversation=conversation,
                seq=2,
                sender_id=consult.lawyer_id,
                body=plan["reply_text"],
                client_id=f"demo-{consult.pk}-2",
            )
        )
    Participant.objects.bulk_create(participants)
    Message.objects.bulk_create(messages)
    plan_of = {
        conversation.pk: plan
        for (plan, _), conversation in zip(answered, conversations, strict=True)
    }
    for message in messages:
        plan = plan_of[message.conversation_id]
        message.created_at = (
            plan["accepted"] + timedelta(seconds=3) if message.seq == 1 else plan["reply"]
        )
    Message.objects.bulk_update(messages, ["created_at"], batch_size=1000)
    Conversation.objects.bulk_update(conversations, ["created_at"], batch_size=500)
    Consult.objects.bulk_update([c for _, c in answered], ["conversation"], batch_size=500)


def _payments(plans: list[dict[str, Any]], consults: list[Consult], fee_bp: int) -> None:
    paid = [(p, c) for p, c in zip(plans, consults, strict=True) if c.is_paid]
    payments = []
    for plan, consult in paid:
        state = {
            Consult.State.RESOLVED: Payment.State.CAPTURED,
            Consult.State.REFUNDED: Payment.State.REFUNDED,
            Consult.State.EXPIRED: Payment.State.CANCELED,
        }[Consult.State(consult.state)]
        captured = state in (Payment.State.CAPTURED, Payment.State.REFUNDED)
        payments.append(
            Payment(
                consult=consult,
                gateway=Payment.Gateway.SANDBOX,
                gateway_reference=f"{DEMO_REFERENCE}{consult.pk}",
                amount=consult.price,
                currency=consult.currency,
                platform_fee_bp=fee_bp,
                state=state,
                settle_action=Payment.SettleAction.CAPTURE
                if captured
                else Payment.SettleAction.CANCEL,
                authorized_at=plan["queued"],
                settle_requested_at=plan["reply"] if captured else consult.expired_at,
                captured_at=plan["reply"] + timedelta(seconds=1) if captured else None,
                canceled_at=consult.expired_at if not captured else None,
                refunded_at=consult.refunded_at,
                refund_reason="demo: complaint upheld" if consult.refunded_at else "",
            )
        )
    Payment.objects.bulk_create(payments)
    for (plan, _consult), payment in zip(paid, payments, strict=True):
        payment.created_at = plan["queued"] - timedelta(seconds=60)
    Payment.objects.bulk_update(payments, ["created_at"], batch_size=500)

    entries = []
    for payment in payments:
        if payment.captured_at is None:
            continue
        fee, earning = fee_split(payment.amount, fee_bp)
        consult = payment.consult
        rows = [
            (LedgerEntry.Kind.PLATFORM_FEE, None, fee),
            (LedgerEntry.Kind.LAWYER_EARNING, consult.lawyer_id, earning),
        ]
        for kind, lawyer_id, amount in rows:
            entries.append(_entry(payment, kind, lawyer_id, amount, False, payment.captured_at))
            if payment.refunded_at:
                entries.append(_entry(payment, kind, lawyer_id, -amount, True, payment.refunded_at))
    LedgerEntry.objects.bulk_create(entries)
    for entry in entries:
        entry.created_at = entry._demo_at  # type: ignore[attr-defined]
    LedgerEntry.objects.bulk_update(entries, ["created_at"], batch_size=1000)


def _entry(
    payment: Payment,
    kind: str,
    lawyer_id: int | None,
    amount: int,
    reversal: bool,
    at: datetime,
) -> LedgerEntry:
    entry = LedgerEntry(
        payment=payment,
        consult_id=payment.consult_id,
        lawyer_id=lawyer_id,
        kind=kind,
        is_reversal=reversal,
        amount=amount,
        currency=payment.currency,
    )
    entry._demo_at = at  # type: ignore[attr-defined]
    return entry


def _ratings(plans: list[dict[str, Any]], consults: list[Consult]) -> None:
    ratings = [
        Rating(
            consult=consult,
            asker_id=consult.asker_id,
            lawyer=consult.lawyer,
            score=plan["score"],
        )
        for plan, consult in zip(plans, consults, strict=True)
        if consult.state == Consult.State.RESOLVED and plan["score"] is not None
    ]
    Rating.objects.bulk_create(ratings)
    by_consult = {c.pk: p for p, c in zip(plans, consults, strict=True)}
    for rating in ratings:
        rating.created_at = by_consult[rating.consult_id]["closed"] + timedelta(minutes=2)
    Rating.objects.bulk_update(ratings, ["created_at"], batch_size=500)
