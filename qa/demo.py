"""Demo world, Q&A part: about 2,000 public questions across regions and categories, answered
by verified demo lawyers citing their legal bases, reviewed by staff, with likes, helpful marks
and views; a few answers wait in the review queue (some flagged) and a few reports are open.

Deterministic (a seeded generator over the demo askers, asker001 to asker500, in that order) and
idempotent: a planned question is created only while fewer public questions with its title, city
and practice area exist than the plan holds, whoever asked them, and everything else hangs off
the questions created in this run. Who asked does not count because it does not last: a demo
asker who deletes their account keeps their questions under the former account (anonymous),
and the next seed gives the username to a fresh account (accounts.demo), which must not be
handed the same questions again. Rows go in with bulk_create; timestamps and search vectors are
set with one UPDATE per batch."""

from __future__ import annotations

import math
import random
from collections import Counter, defaultdict
from collections.abc import Sequence
from datetime import datetime, timedelta

from django.conf import settings
from django.contrib.auth.hashers import make_password
from django.db import connection
from django.db.models import Model
from django.utils import timezone

from accounts.demo import ASKER_COUNT, DEMO_PASSWORD
from accounts.models import User
from marketplace.models import Category, LawyerProfile, Question, Region
from qa import search
from qa.demo_content import (
    ANSWER_CLOSINGS,
    ANSWER_OPENINGS,
    CLOSINGS,
    EXCERPTS,
    FLAGGED_ANSWERS,
    OPENINGS,
    PENDING_ANSWER,
    REJECTION_REASONS,
    SLOTS,
    TOPICS,
    Topic,
)
from qa.models import (
    Answer,
    AnswerLike,
    AnswerReview,
    HelpfulMark,
    LegalBasis,
    Report,
    TargetType,
)
from qa.safety import review_flags

QUESTION_COUNT = 2000
SHANDONG = "370000"
# the provinces the demo lawyers live in (marketplace.demo) get most of the rest
LAWYER_PROVINCES = ("110000", "310000", "320000", "330000", "440000", "510000", "420000")
PENDING_COUNT = 12
REPORT_COUNT = 5
BATCH = 2000
# Databases seeded before the demo text took full-width punctuation hold its titles with
# , ? : ; ( ) !; they count as seeded, so `make run` over an older .devdata adds no near-duplicates.
HALF_WIDTH = str.maketrans("，？：；（）！", ",?:;()!")


def _demo_key(title: str, city_id: str | None, category_id: int | None) -> tuple:
    """What makes a demo question the same one in every database, seeded before or now."""
    return (title.translate(HALF_WIDTH), city_id, category_id)


def _slot_values(rng: random.Random) -> dict[str, str]:
    return {name: rng.choice(options) for name, options in SLOTS.items()}


def _fill(template: str, city: Region, values: dict[str, str]) -> str:
    return template.format(city=city.short_zh, **values)


def _pick_city(rng: random.Random, pools: dict[str, list[Region]]) -> Region:
    roll = rng.random()
    if roll < 0.5:
        return rng.choice(pools["shandong"])
    if roll < 0.9:
        return rng.choice(pools["lawyer_provinces"])
    return rng.choice(pools["elsewhere"])


def _created_at(rng: random.Random, now: datetime) -> datetime:
    # more recent questions than old ones, over two years
    age_days = 730 * (rng.random() ** 1.6)
    return now - timedelta(days=age_days, minutes=rng.randint(0, 1440))


def _views(rng: random.Random, created: datetime, now: datetime) -> int:
    age_days = max(1.0, (now - created).total_seconds() / 86400)
    return max(3, int(math.exp(rng.gauss(5.2, 1.25)) * (1 + age_days / 120)))


def _set_timestamps(model: type[Model], rows: Sequence[tuple[int, datetime]]) -> None:
    """created_at is auto_now_add, so bulk_create writes now(); the demo's history is set after."""
    table = connection.ops.quote_name(model._meta.db_table)
    has_updated = any(f.name == "updated_at" for f in model._meta.fields)
    assignment = "created_at = v.t" + (", updated_at = v.t" if has_updated else "")
    with connection.cursor() as cursor:
        for start in range(0, len(rows), BATCH):
            chunk = rows[start : start + BATCH]
            values = ", ".join(["(%s::bigint, %s::timestamptz)"] * len(chunk))
            cursor.execute(
                f"UPDATE {table} AS m SET {assignment} "  # noqa: S608 - names from the model
                f"FROM (VALUES {values}) AS v(id, t) WHERE m.id = v.id",
                [value for row in chunk for value in row],
            )


def _reviewers(count: int) -> list[User]:
    """Staff who review answers: the demo admin, and more when several rounds are required."""
    staff = list(User.objects.filter(is_staff=True).order_by("pk")[:count])
    for n in range(len(staff) + 1, count + 1):
        reviewer, _ = User.objects.get_or_create(
            username=f"reviewer{n:02d}",
            defaults={
                "role": User.Role.STAFF,
                "is_staff": True,
                "password": make_password(DEMO_PASSWORD),
            },
        )
        staff.append(reviewer)
    return staff


class _LawyerPool:
    """Verified demo lawyers by province and practice area, for picking answerers."""

    def __init__(self) -> None:
        self.by_province: dict[str, list[LawyerProfile]] = defaultdict(list)
        self.all: list[LawyerProfile] = []
        profiles = (
            LawyerProfile.objects.filter(verification=LawyerProfile.Verification.VERIFIED)
            .select_related("user", "home_city")
            .prefetch_related("categories")
            .order_by("user__username")
        )
        for profile in profiles:
            profile.category_ids = {c.pk for c in profile.categories.all()}  # type: ignore[attr-defined]
            self.all.append(profile)
            if profile.home_city is not None:
                self.by_province[profile.home_city.parent_id or ""].append(profile)

    def pick(self, rng: random.Random, city: Region, category_id: int, k: int) -> list[User]:
        local = self.by_province.get(city.parent_id or "", []) or self.all
        fitting = [p for p in local if category_id in p.category_ids] or local  # type: ignore[attr-defined]
        return [p.user for p in rng.sample(fitting, k=min(k, len(fitting)))]


def seed(stdout) -> None:
    rng = random.Random(6006)
    now = timezone.now()
    # the demo askers only, so someone registering as "askerbob" does not shift the plan;
    # accounts.demo has just given every demo username an account, a fresh one where the old
    # was deleted
    roster = [f"asker{n:03d}" for n in range(1, ASKER_COUNT + 1)]
    askers = list(
        User.objects.filter(role=User.Role.ASKER, username__in=roster).order_by("username")
    )
    lawyers = _LawyerPool()
    if not askers or not lawyers.all:
        stdout.write("  qa: no demo askers or verified lawyers, nothing to seed")
        return
    categories = {c.slug: c for c in Category.objects.all()}
    cities = list(Region.objects.filter(level=Region.Level.CITY).order_by("code"))
    pools = {
        "shandong": [c for c in cities if c.parent_id == SHANDONG],
        "lawyer_provinces": [c for c in cities if c.parent_id in LAWYER_PROVINCES],
        "elsewhere": [c for c in cities if c.parent_id not in (SHANDONG, *LAWYER_PROVINCES)],
    }
    rounds = max(1, settings.QA_ANSWER_REVIEW_ROUNDS)
    reviewers = _reviewers(rounds)

    # --- plan the questions (deterministic), keep those not seeded yet -------------------
    planned: list[tuple[Question, Topic, datetime]] = []
    seen_titles: set[tuple[int, str]] = set()
    for index in range(QUESTION_COUNT):
        topic = TOPICS[index % len(TOPICS)]
        for _attempt in range(5):  # an asker does not ask the same title twice
            city = _pick_city(rng, pools)
            asker = rng.choice(askers)
            title_text = rng.choice(topic.titles)
            values = _slot_values(rng)
            title = _fill(title_text, city, values)[:120]
            if (asker.pk, title) not in seen_titles:
                break
        else:
            continue
        seen_titles.add((asker.pk, title))
        opening, body_text = rng.choice(OPENINGS), rng.choice(topic.bodies)
        # the body tells the title's story (the same amount, months, ...); the draw the body once
        # made is still taken, so the plan, and the titles a seeded database holds, stay as they were
        _slot_values(rng)
        body = opening + _fill(body_text, city, values) + rng.choice(CLOSINGS)
        created = _created_at(rng, now)
        question = Question(
            asker=asker,
            title=title,
            body=body,
            category=categories[topic.category],
            city=city,
            is_public=True,
            is_anonymous=rng.random() < 0.7,
            status=Question.Status.OPEN,
            view_count=_views(rng, created, now),
        )
        planned.append((question, topic, created))
    # how many of each (title, city, practice area) the database holds already; the plan's
    # first that many of each are those
    titles = {q.title for q, _, _ in planned}
    rows = Question.objects.filter(
        is_public=True, title__in=titles | {title.translate(HALF_WIDTH) for title in titles}
    ).values_list("title", "city_id", "category_id")
    existing = Counter(_demo_key(*row) for row in rows)
    fresh = []
    for q, t, c in planned:
        key = _demo_key(q.title, q.city_id, q.category_id)
        if existing[key] > 0:
            existing[key] -= 1
        else:
            fresh.append((q, t, c))
    if not fresh:
        stdout.write(
            f"  qa: {Question.objects.filter(is_public=True).count()} public questions (already seeded)"
        )
        return

    # --- answers, reviews, likes and helpful marks, planned in memory ---------------------
    answers: list[Answer] = []
    answer_meta: list[tuple[Question, int, datetime, list[tuple[str, str]]]] = []
    for question, topic, created in fresh:
        roll = rng.random()
        count = 0 if roll < 0.1 else (1 if roll < 0.68 else 2)
        templates = rng.sample(list(topic.answers), k=min(count, len(topic.answers)))
        chosen = lawyers.pick(rng, question.city, question.category_id, len(templates))
        for order, (template, lawyer) in enumerate(zip(templates, chosen, strict=False)):
            published = min(now, created + timedelta(minutes=rng.randint(20, 4320) * (order + 1)))
            body = rng.choice(ANSWER_OPENINGS) + template.body + rng.choice(ANSWER_CLOSINGS)
            answers.append(
                Answer(
                    lawyer=lawyer,
                    body=body,
                    status=Answer.Status.APPROVED,
                    review_rounds_required=rounds,
                    approvals=rounds,
                    published_at=published,
                )
            )
            answer_meta.append((question, len(answer_meta), published, list(template.bases)))
        if templates:
            question.status = Question.Status.ANSWERED

    likes: list[tuple[int, User]] = []  # (answer index, user)
    marks: list[tuple[int, User]] = []
    helped_by_question: dict[int, set[int]] = defaultdict(set)  # id(question) -> user ids
    for index, (question, _order, _published, _bases) in enumerate(answer_meta):
        answer = answers[index]
        likers = rng.sample(askers, k=min(len(askers), int(rng.expovariate(1 / 4))))
        likes.extend((index, user) for user in likers)
        answer.like_count = len(likers)
        markers = set(rng.sample(askers, k=min(len(askers), int(rng.expovariate(1 / 2.5)))))
        if rng.random() < 0.45:
            markers.add(question.asker)
        marks.extend((index, user) for user in sorted(markers, key=lambda u: u.pk))
        answer.helpful_count = len(markers)
        helped_by_question[id(question)].update(u.pk for u in markers)
    for question, _topic, _created in fresh:
        question.helped_count = len(helped_by_question[id(question)])

    # --- write ------------------------------------------------------------------------
    questions = Question.objects.bulk_create([q for q, _, _ in fresh], batch_size=BATCH)
    _set_timestamps(Question, [(q.pk, c) for q, (_, _, c) in zip(questions, fresh, strict=True)])
    for answer, (question, _order, _published, _bases) in zip(answers, answer_meta, strict=True):
        answer.question = question
    Answer.objects.bulk_create(answers, batch_size=BATCH)
    _set_timestamps(
        Answer, [(a.pk, p) for a, (_, _, p, _) in zip(answers, answer_meta, strict=True)]
    )
    LegalBasis.objects.bulk_create(
        (
            LegalBasis(
                answer=answer,
                position=position,
                statute=statute,
                article=article,
                excerpt=EXCERPTS.get((statute, article), ""),
            )
            for answer, (_q, _o, _p, bases) in zip(answers, answer_meta, strict=True)
            for position, (statute, article) in enumerate(bases)
        ),
        batch_size=BATCH,
    )
    AnswerReview.objects.bulk_create(
        (
            AnswerReview(answer=answer, reviewer=reviewers[r], round=r + 1, approved=True)
            for answer in answers
            for r in range(rounds)
        ),
        batch_size=BATCH,
    )
    AnswerLike.objects.bulk_create(
        (AnswerLike(answer=answers[i], user=user) for i, user in likes), batch_size=BATCH
    )
    HelpfulMark.objects.bulk_create(
        (HelpfulMark(answer=answers[i], user=user) for i, user in marks), batch_size=BATCH
    )
    indexed = search.index_questions(questions)

    _seed_review_queue(rng, questions, answers, lawyers)
    _seed_reports(rng, questions, answers, askers)
    stdout.write(
        f"  qa: {len(questions)} public questions ({indexed} indexed), {len(answers)} answers, "
        f"{len(likes)} likes, {len(marks)} helpful marks"
    )


def _seed_review_queue(
    rng: random.Random, questions: list[Question], answers: list[Answer], lawyers: _LawyerPool
) -> None:
    """A few recent answers waiting for review (some flagged), and two rejected ones."""
    answered_by: dict[int, set[int]] = defaultdict(set)
    for answer in answers:
        answered_by[answer.question_id].add(answer.lawyer_id)
    recent = sorted(questions, key=lambda q: q.pk)[-200:]
    rows: list[Answer] = []
    for n, question in enumerate(rng.sample(recent, k=min(PENDING_COUNT + 2, len(recent)))):
        candidates = [
            u
            for u in lawyers.pick(rng, question.city, question.category_id, 4)
            if u.pk not in answered_by[question.pk]
        ]
        if not candidates:
            continue
        if n < len(FLAGGED_ANSWERS):
            body = FLAGGED_ANSWERS[n]
        else:
            body = PENDING_ANSWER
        flags = review_flags(body)
        status = Answer.Status.PENDING
        reason = ""
        if n >= PENDING_COUNT:
            status, reason = Answer.Status.REJECTED, REJECTION_REASONS[n - PENDING_COUNT]
        rows.append(
            Answer(
                question=question,
                lawyer=candidates[0],
                body=body,
                status=status,
                rejection_reason=reason,
                review_rounds_required=max(1, settings.QA_ANSWER_REVIEW_ROUNDS),
                flags=[f.as_dict() for f in flags],
                is_flagged=bool(flags),
            )
        )
    Answer.objects.bulk_create(rows)


def _seed_reports(
    rng: random.Random, questions: list[Question], answers: list[Answer], askers: list[User]
) -> None:
    reasons = (
        Report.Reason.MISLEADING,
        Report.Reason.SPAM,
        Report.Reason.PRIVACY,
        Report.Reason.ABUSE,
    )
    rows: list[Report] = []
    for n in range(REPORT_COUNT):
        reporter = rng.choice(askers)
        if n % 2 == 0 and answers:
            answer = rng.choice(answers)
            rows.append(
                Report(
                    reporter=reporter,
                    target_type=TargetType.ANSWER,
                    target_id=answer.pk,
                    reason=reasons[n % len(reasons)],
                    details="回答里的说法和我查到的法条不一致。",
                )
            )
        else:
            question = rng.choice(questions)
            if question.asker_id == reporter.pk:
                continue
            rows.append(
                Report(
                    reporter=reporter,
                    target_type=TargetType.QUESTION,
                    target_id=question.pk,
                    reason=reasons[n % len(reasons)],
                    details="",
                )
            )
    Report.objects.bulk_create(rows, ignore_conflicts=True)
