"""The marketplace's writes: questions, lawyer profiles and their verification, consults, and
accepting or declining offers. Consult states move only through `marketplace.consult_states`;
matching lives in `marketplace.matching`.

Lock order, everywhere: a lawyer's profile row, then a consult row, then offer rows.
"""

from __future__ import annotations

import logging
import re
import unicodedata
from collections.abc import Iterable
from datetime import datetime
from functools import lru_cache, partial
from typing import cast

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

from accounts.models import User
from accounts.realtime import push_to_users_on_commit
from accounts.roles import require_role, require_staff
from config import prepared_sql
from config.errors import FieldProblems, NotFound
from config.rate_limits import rate_limit_check
from marketplace import consult_states, errors, presence, socket_frames
from marketplace.models import (
    Category,
    Consult,
    LawyerProfile,
    Offer,
    Question,
    Region,
    VerificationDecision,
)

logger = logging.getLogger(__name__)

TITLE_MAX_CHARS = 120
BODY_MAX_CHARS = 20_000
# ASCII digits only: `\d` alone also takes full-width and other scripts' digits
LICENSE_RE = re.compile(r"^[0-9]{15,18}$")
CAPACITY_RANGE = (1, 20)
REGIONS_SERVED_MAX = 50
CURRENCY_RE = re.compile(r"^[A-Z]{3}$")
REASON_MAX_CHARS = 500


def _invalid(error: type[errors.InvalidInput], field: str) -> errors.InvalidInput:
    return error(fields={field: error.message})


# --- questions ------------------------------------------------------------------------------


def require_asker(user: User) -> User:
    if user.role == User.Role.LAWYER:
        raise errors.LawyersCannotAsk()
    return require_role(user, User.Role.ASKER)


def city_from_code(code: str | None, *, field: str = "city") -> Region:
    region = Region.objects.filter(code=(code or "").strip()).first() if code else None
    if region is None:
        raise _invalid(errors.UnknownRegion, field)
    if region.level != Region.Level.CITY:
        raise _invalid(errors.RegionNotCity, field)
    return region


def category_from_slug(slug: str | None, *, field: str = "category") -> Category:
    category = Category.objects.filter(slug=(slug or "").strip()).first() if slug else None
    if category is None:
        raise _invalid(errors.UnknownCategory, field)
    return category


def question_validate(*, title: str, body: str) -> tuple[str, str]:
    title = (title or "").strip()
    body = (body or "").strip()
    if not title:
        raise _invalid(errors.TitleRequired, "title")
    if len(title) > TITLE_MAX_CHARS:
        raise _invalid(errors.TitleTooLong, "title")
    if not body:
        raise _invalid(errors.BodyRequired, "body")
    if len(body) > BODY_MAX_CHARS:
        raise _invalid(errors.BodyTooLong, "body")
    return title, body


def question_create(
    *,
    asker: User,
    title: str,
    body: str,
    category: str,
    city: str,
    is_public: bool = True,
    is_anonymous: bool = False,
) -> Question:
    """Ask a question (asker accounts only); it is indexed for search at once."""
    from qa.search import index_question

    require_asker(asker)
    title, body = question_validate(title=title, body=body)
    category_row = category_from_slug(category)
    city_row = city_from_code(city)
    # a flood of questions from one account is spam, whichever way it comes in
    rate_limit_check(
        bucket="ask",
        identity=asker.pk,
        limit=settings.QUESTION_RATE_LIMIT_PER_HOUR,
        window_seconds=3600,
    )
    with transaction.atomic():
        question = Question.objects.create(
            asker=asker,
            title=title,
            body=body,
            category=category_row,
            city=city_row,
            is_public=is_public,
            is_anonymous=is_anonymous,
        )
        index_question(question)
    return question


# --- lawyer profiles and verification ------------------------------------------------------


def _served_regions(codes: Iterable[str]) -> list[Region]:
    wanted = list(dict.fromkeys(c.strip() for c in codes if c and c.strip()))
    if len(wanted) > REGIONS_SERVED_MAX:
        raise _invalid(errors.TooManyRegions, "regions_served")
    regions = {
        r.code: r
        for r in Region.objects.filter(
            code__in=wanted, level__in=[Region.Level.PROVINCE, Region.Level.CITY]
        )
    }
    missing = [c for c in wanted if c not in regions]
    if missing:
        raise errors.UnknownRegion(fields={"regions_served": errors.UnknownRegion.message})
    return [regions[c] for c in wanted]


def _categories(slugs: Iterable[str]) -> list[Category]:
    wanted = list(dict.fromkeys(s.strip() for s in slugs if s and s.strip()))
    if not wanted:
        raise _invalid(errors.CategoriesRequired, "categories")
    found = {c.slug: c for c in Category.objects.filter(slug__in=wanted)}
    if len(found) != len(wanted):
        raise _invalid(errors.UnknownCategory, "categories")
    return [found[s] for s in wanted]


def lawyer_profile_update(
    *,
    lawyer: User,
    license_number: str | None = None,
    city: str | None = None,
    regions_served: list[str] | None = None,
    categories: list[str] | None = None,
    capacity: int | None = None,
    firm: str | None = None,
    bio: str | None = None,
    years_in_practice: int | None = None,
    price: int | None = None,
    currency: str | None = None,
) -> LawyerProfile:
    """Create or change the lawyer's own profile; fields left None stay as they are.

    Submitting a license number (a new one, or again after a rejection) puts the profile in
    `pending` review: a verified lawyer who changes the number is no longer matched until staff
    verify it again, and their live offers are withdrawn at once (`lawyer_offers_withdraw`)."""
    require_role(lawyer, User.Role.LAWYER)
    # billing: 0 or integer minor units within the bounds, a supported ISO currency
    from billing.prices import clean_currency, clean_price

    problems = FieldProblems()
    if license_number is not None:
        # a Chinese input method types full-width digits and dashes: NFKC makes them ASCII, so
        # staff read and search the number as it is printed on the certificate
        license_number = re.sub(r"[\s-]", "", unicodedata.normalize("NFKC", license_number))
        if not LICENSE_RE.match(license_number):
            problems.add(_invalid(errors.InvalidLicenseNumber, "license_number"))
    home_city = problems.check(lambda: city_from_code(city)) if city is not None else None
    served = (
        problems.check(lambda: _served_regions(regions_served))
        if regions_served is not None
        else None
    )
    practised = problems.check(lambda: _categories(categories)) if categories is not None else None
    if capacity is not None and not (CAPACITY_RANGE[0] <= capacity <= CAPACITY_RANGE[1]):
        problems.add(_invalid(errors.InvalidCapacity, "capacity"))
    price = problems.check(lambda: clean_price(price)) if price is not None else None
    currency = problems.check(lambda: clean_currency(currency)) if currency is not None else None
    problems.raise_any()
    with transaction.atomic():
        LawyerProfile.objects.get_or_create(user=lawyer)
        profile = LawyerProfile.objects.select_for_update().get(user=lawyer)
        now = timezone.now()
        if license_number is not None:
            resubmitted = profile.verification in (
                LawyerProfile.Verification.UNSUBMITTED,
                LawyerProfile.Verification.REJECTED,
            )
            if license_number != profile.license_number or resubmitted:
                was_verified = profile.is_verified
                profile.license_number = license_number
                profile.verification = LawyerProfile.Verification.PENDING
                profile.verified_at = None
                profile.submitted_at = now
                _tell_staff_of_verification(profile)
                if was_verified:
                    # no longer matched until staff verify the new number: live offers go too,
                    # and the lawyer stops counting as online
                    lawyer_offers_withdraw(lawyer_id=lawyer.pk)
                    presence.remove_on_commit(lawyer.pk)
        if home_city is not None:
            profile.home_city = home_city
        if capacity is not None:
            profile.capacity = capacity
        if firm is not None:
            profile.firm = firm.strip()[:100]
        if bio is not None:
            profile.bio = bio.strip()[:2000]
        if years_in_practice is not None:
            profile.years_in_practice = max(0, min(years_in_practice, 80))
        if price is not None:
            profile.price = price
        if currency is not None:
            profile.currency = currency
        profile.save()
        if served is not None:
            profile.regions_served.set(served)
        elif home_city is not None and not profile.regions_served.exists():
            profile.regions_served.set([home_city])
        if practised is not None:
            profile.categories.set(practised)
    return profile


# the statuses a decision can be taken on: a profile with a license number is in one of them
DECIDABLE_STATUSES = frozenset(
    {
        LawyerProfile.Verification.PENDING,
        LawyerProfile.Verification.VERIFIED,
        LawyerProfile.Verification.REJECTED,
    }
)


def lawyer_verify(
    *,
    staff: User,
    lawyer_id: int,
    approved: bool,
    reason: str = "",
    expected: str | None = None,
) -> VerificationDecision:
    """Staff decide on a lawyer's submitted license: recorded, and the profile becomes
    verified (matched from now on) or rejected. Staff may also revoke an earlier approval.

    A lawyer who stops being verified stops being matched in the same transaction: their live
    offers are revoked and those consults look for someone else (`lawyer_offers_withdraw`);
    after commit they stop counting as online (`presence.remove`), and their open sockets'
    heartbeats are refused (`lawyer_not_verified`) until staff approve them again.
    Consults they already took (active) go on to their end. An accept of theirs waits for the
    profile lock taken here and then finds them unverified. `expected`: the status the staff
    member saw (pending, verified or rejected: `invalid_expected` otherwise);
    `verification_changed` when someone decided in between."""
    require_staff(staff)
    if expected is not None and expected not in DECIDABLE_STATUSES:
        raise _invalid(errors.InvalidExpectedStatus, "expected")
    reason = (reason or "").strip()
    if not approved and not reason:
        raise _invalid(errors.ReasonRequired, "reason")
    with transaction.atomic():
        profile = LawyerProfile.objects.select_for_update().filter(user_id=lawyer_id).first()
        if profile is None:
            raise NotFound()
        if not profile.license_number:
            raise errors.ProfileNotSubmitted()
        if expected is not None and profile.verification != expected:
            raise errors.VerificationChanged()
        decision = VerificationDecision.objects.create(
            profile=profile,
            decided_by=staff,
            approved=approved,
            reason=reason[:REASON_MAX_CHARS],
            license_number=profile.license_number,
        )
        if approved:
            profile.verification = LawyerProfile.Verification.VERIFIED
            profile.verified_at = decision.decided_at
        else:
            profile.verification = LawyerProfile.Verification.REJECTED
            profile.verified_at = None
        profile.save(update_fields=["verification", "verified_at", "updated_at"])
        if not approved:
            lawyer_offers_withdraw(lawyer_id=lawyer_id)
            presence.remove_on_commit(lawyer_id)
        _tell_lawyer_of(decision, lawyer_id=lawyer_id)
        _tell_staff_of_verification(profile)
    return decision


def lawyer_offers_withdraw(*, lawyer_id: int, sweep_again: bool = True) -> list[int]:
    """Revoke the live offers of a lawyer who is no longer verified (`offer.revoked`, reason
    `withdrawn`, to the lawyer's sockets after commit); each consult re-matches as after a
    decline: topped up from the next candidates, or queued again in the same scope when it has
    no live offer left. Returns the revoked offer ids.

    Precondition: the lawyer's profile row is locked (lock order: profile, consult, offers).
    A matching pass that read the lawyer as verified just before the change may still write an
    offer after it, so with `sweep_again` a task runs the withdrawal once more after commit;
    such an offer can never be accepted meanwhile (`offer_accept` checks verification under
    the profile lock)."""
    consult_ids = sorted(
        set(
            Offer.objects.filter(lawyer_id=lawyer_id, state=Offer.State.PENDING).values_list(
                "consult_id", flat=True
            )
        )
    )
    revoked: list[int] = []
    now = timezone.now()
    for consult_id in consult_ids:
        consult = consult_states.lock_consult(consult_id)
        offer_ids = list(
            Offer.objects.select_for_update()
            .filter(consult_id=consult_id, lawyer_id=lawyer_id, state=Offer.State.PENDING)
            .values_list("pk", flat=True)
        )
        if not offer_ids:
            continue
        Offer.objects.filter(pk__in=offer_ids).update(state=Offer.State.REVOKED, responded_at=now)
        for offer_id in offer_ids:
            push_to_users_on_commit(
                [lawyer_id],
                socket_frames.offer_revoked(
                    offer_id=offer_id, consult_id=consult_id, reason="withdrawn"
                ),
            )
        _rematch_after_offer_gone(consult, now=now)
        revoked += offer_ids
    if sweep_again:
        from marketplace.tasks import offers_withdraw_unverified

        offers_withdraw_unverified.delay_on_commit(lawyer_id)
    return revoked


def lawyer_offers_withdraw_if_unverified(*, lawyer_id: int) -> list[int]:
    """The sweep after commit (see `lawyer_offers_withdraw`); nothing when the lawyer is
    verified again by now."""
    with transaction.atomic():
        profile = LawyerProfile.objects.select_for_update().filter(user_id=lawyer_id).first()
        if profile is None or profile.is_verified:
            return []
        return lawyer_offers_withdraw(lawyer_id=lawyer_id, sweep_again=False)


def _rematch_after_offer_gone(consult: Consult, *, now: datetime) -> None:
    """One of the consult's offers just ended without an accept (declined, or its lawyer lost
    verification): back to queued when none is live (matching runs again after commit, in the
    same scope), otherwise the asker hears of the search and a pass tops the offers up.
    Precondition: the consult row is locked."""
    live = Offer.objects.filter(
        consult=consult, state=Offer.State.PENDING, expires_at__gt=now
    ).count()
    if consult.state == Consult.State.OFFERED and live == 0:
        consult_states.consult_requeue(consult_id=consult.pk)
    elif consult.state in (Consult.State.QUEUED, Consult.State.OFFERED):
        from marketplace.matching import push_search_update
        from marketplace.tasks import match_consult

        push_search_update(consult, offered=live)
        match_consult.delay_on_commit(consult.pk, None)


def _tell_staff_of_verification(profile: LawyerProfile) -> None:
    """Staff sockets hear after commit that a lawyer joined or left the verification queue
    (`verification.changed`, with how many wait now): the dashboard's list follows it."""
    lawyer_id, status = profile.user_id, str(profile.verification)

    def push() -> None:
        from accounts.realtime import push_to_staff
        from marketplace.selectors import verification_queue

        waiting = verification_queue().count()
        push_to_staff(socket_frames.verification_changed(lawyer_id, status, waiting=waiting))

    transaction.on_commit(push)


def _tell_lawyer_of(decision: VerificationDecision, *, lawyer_id: int) -> None:
    """A notice in the lawyer's inbox, by a task after commit (the decision's id only)."""
    from messaging.notices import LAWYER_REJECTED, LAWYER_VERIFIED
    from messaging.tasks import notice_send_task

    kind = LAWYER_VERIFIED if decision.approved else LAWYER_REJECTED
    notice_send_task.delay_on_commit(lawyer_id, kind, {"decision": decision.pk})


# --- consults -------------------------------------------------------------------------------


def consult_create(
    *,
    asker: User,
    question_id: int,
    lawyer_id: int | None = None,
    paid: bool = False,
    price: int = 0,
    currency: str = "CNY",
) -> Consult:
    """Open a consult from the asker's own question, optionally naming a lawyer.

    Free: `queued` at once and matching starts after commit. Paid: `pending_payment`; billing
    creates the payment below and calls `consult_states.consult_mark_paid` once it is
    authorised. The consult comes back as committed, with its question (and category) and its
    payment (or none) loaded: the API serialises it without reading it again."""
    require_asker(asker)
    currency = (currency or "").strip().upper()
    if paid and (price is None or price <= 0):
        raise _invalid(errors.InvalidConsultPrice, "price")
    if not paid and price:
        raise _invalid(errors.InvalidConsultPrice, "price")
    if not CURRENCY_RE.match(currency):
        raise _invalid(errors.InvalidConsultCurrency, "currency")
    question, has_open_consult = _own_question(question_id=question_id, asker_id=asker.pk)
    if question is None:
        raise NotFound()
    if question.status in (Question.Status.CLOSED, Question.Status.HIDDEN):
        raise errors.QuestionClosed()
    if has_open_consult:
        raise errors.ConsultAlreadyOpen()
    requested = None
    if lawyer_id is not None:
        requested = (
            User.objects.select_related("lawyer_profile")
            .filter(
                pk=lawyer_id,
                role=User.Role.LAWYER,
                is_active=True,
                lawyer_profile__verification=LawyerProfile.Verification.VERIFIED,
            )
            .first()
        )
        if requested is None:
            raise _invalid(errors.UnknownLawyer, "lawyer")
    price = price if paid else 0
    # --- BILLING HOOKS: the price check before anything is written, and the payment of a paid
    # consult in the consult's transaction. The consult stays `pending_payment` until billing
    # calls consult_states.consult_mark_paid(consult_id=...) on authorisation.
    from billing.services import consult_price_check, payment_create_for_consult

    consult_price_check(requested_lawyer=requested, paid=paid, price=price, currency=currency)
    open_consult = partial(
        consult_states.consult_open,
        question=question,
        asker=asker,
        paid=paid,
        price=price,
        currency=currency,
        requested_lawyer=requested,
    )
    if not paid:
        # one INSERT: in autocommit (the API) no BEGIN or COMMIT round trip on the way to the
        # first offer; the unique index refuses a second open consult that raced the check
        consult = open_consult()
        Consult.payment.related.set_cached_value(consult, None)  # type: ignore[attr-defined]
        return consult
    with transaction.atomic():
        consult = open_consult()
        payment_create_for_consult(consult=consult)
    return consult


# Opening a consult is on the post → offer.new hot path: its read is a fixed statement (the
# ORM compiled it on every request, all before matching can be enqueued). The question without
# its body and search vector, with its category, and whether it has an open consult.
_QUESTION_PARTS = ((Question, "q", ("body", "search_vector")), (Category, "g", ()))


@lru_cache(maxsize=1)
def _own_question_sql() -> tuple[str, tuple[tuple[str, ...], ...]]:
    quote = connection.ops.quote_name
    columns, attnames = prepared_sql.model_columns(_QUESTION_PARTS)
    sql = (
        f"SELECT {', '.join(columns)}, EXISTS ("  # noqa: S608 - names from the models
        f"SELECT 1 FROM {quote(Consult._meta.db_table)} c"
        " WHERE c.question_id = q.id AND c.state = ANY(%s))"
        f" FROM {quote(Question._meta.db_table)} q"
        f" JOIN {quote(Category._meta.db_table)} g ON g.id = q.category_id"
        " WHERE q.id = %s AND q.asker_id = %s"
    )
    return sql, attnames


def _own_question(*, question_id: int, asker_id: int) -> tuple[Question | None, bool]:
    """The asker's question with its category (None: not theirs, or none), and whether it
    has an open consult."""
    sql, attnames = _own_question_sql()
    open_states = sorted(consult_states.OPEN_STATES)
    rows = prepared_sql.fetch_all(sql, [open_states, question_id, asker_id], logged=True)
    if not rows:
        return None, False
    *row, has_open_consult = rows[0]
    question, category = prepared_sql.instances_from_row(_QUESTION_PARTS, attnames, row)
    question = cast(Question, question)
    question.category = cast(Category, category)
    return question, has_open_consult


def consult_close(*, user: User, consult_id: int) -> Consult:
    """A participant finishes the consult: an active one is resolved; the asker may also call
    off one that no lawyer has taken yet (canceled, live offers withdrawn)."""
    with transaction.atomic():
        consult = Consult.objects.select_for_update(of=("self",)).filter(pk=consult_id).first()
        if consult is None or user.pk not in (consult.asker_id, consult.lawyer_id):
            raise NotFound()
        if consult.state == Consult.State.ACTIVE:
            if consult.first_reply_at is None:
                # closed before the lawyer's first reply: nothing is owed, and neither the
                # capture (first reply) nor the SLA sweep (open consults only) will release it
                from billing.services import payment_cancel_for_consult

                payment_cancel_for_consult(consult=consult)
            resolved = consult_states.consult_resolve(consult_id=consult.pk)
            if resolved.lawyer_id is not None:
                # a seat freed up: consults waiting for someone like this lawyer get a pass
                from marketplace.tasks import match_for_lawyer

                match_for_lawyer.delay_on_commit(resolved.lawyer_id)
            return resolved
        if user.pk == consult.asker_id and consult.state in (
            Consult.State.PENDING_PAYMENT,
            Consult.State.QUEUED,
            Consult.State.OFFERED,
        ):
            # --- BILLING HOOK: release the authorised payment of a canceled paid consult ---
            from billing.services import payment_cancel_for_consult

            payment_cancel_for_consult(consult=consult)
            return consult_states.consult_cancel(consult_id=consult.pk)
        raise errors.IllegalTransition()


# --- offers -------------------------------------------------------------------------------


def _send_matched_notice(consult_id: int, asker_id: int) -> None:
    from messaging.notices import CONSULT_MATCHED
    from messaging.services import notice_send

    try:
        asker = User.objects.get(pk=asker_id)
        notice_send(user=asker, kind=CONSULT_MATCHED, context={"consult": consult_id})
    except Exception:
        # the consult is taken either way; the socket frame already told the asker
        logger.exception("consult_matched notice for consult %s failed", consult_id)


def _offer_refusal(offer: Offer, consult: Consult, lawyer: User) -> errors.DomainError | None:
    """Why this lawyer's offer cannot be accepted now (None: it can)."""
    if offer.state == Offer.State.DECLINED:
        return errors.OfferDeclined()
    if consult.lawyer_id is not None and consult.lawyer_id != lawyer.pk:
        return errors.OfferTaken()
    if offer.state == Offer.State.EXPIRED or (
        offer.state == Offer.State.PENDING and offer.expires_at <= timezone.now()
    ):
        return errors.OfferExpired()
    if offer.state != Offer.State.PENDING or consult.state != Consult.State.OFFERED:
        return errors.OfferWithdrawn()
    return None


def offer_accept(*, offer_id: int, lawyer: User) -> Consult:
    """The lawyer takes the consult of their offer. Exactly one accept of a consult wins: the
    consult row lock serialises them and the loser finds the consult taken (`offer_taken`);
    the lawyer's profile lock serialises one lawyer's accepts so capacity is never exceeded.
    The winner's consult becomes active with its conversation open; the other offers are
    revoked. Accepting one's own already accepted offer again returns the consult."""
    require_role(lawyer, User.Role.LAWYER)
    with transaction.atomic():
        profile = LawyerProfile.objects.select_for_update().filter(user=lawyer).first()
        consult_id = (
            Offer.objects.filter(pk=offer_id, lawyer=lawyer)
            .values_list("consult_id", flat=True)
            .first()
        )
        if profile is None or consult_id is None:
            raise errors.OfferNotFound()
        consult = consult_states.lock_consult(consult_id)
        offer = Offer.objects.select_for_update().get(pk=offer_id)
        if offer.state == Offer.State.ACCEPTED and consult.lawyer_id == lawyer.pk:
            return consult
        # first: a lawyer whose approval was revoked finds their offers withdrawn, and hears why
        if not profile.is_verified:
            raise errors.LawyerNotVerified()
        refusal = _offer_refusal(offer, consult, lawyer)
        if refusal is not None:
            raise refusal
        active = Consult.objects.filter(lawyer=lawyer, state=Consult.State.ACTIVE).count()
        if active >= profile.capacity:
            raise errors.OverCapacity()

        now = timezone.now()
        # conditional on still pending; the partial unique constraint is the last backstop
        won = Offer.objects.filter(pk=offer.pk, state=Offer.State.PENDING).update(
            state=Offer.State.ACCEPTED, responded_at=now
        )
        if won != 1:
            raise errors.OfferTaken()
        consult_states.revoke_pending_offers(consult, reason="taken", keep=[offer.pk])
        consult = consult_states.consult_activate(consult_id=consult.pk, lawyer_id=lawyer.pk)
        from messaging.services import conversation_open_for_consult

        conversation_open_for_consult(consult=consult)
        push_to_users_on_commit(
            [consult.asker_id, lawyer.pk], socket_frames.consult_matched(consult)
        )
        asker_id = consult.asker_id
        transaction.on_commit(lambda: _send_matched_notice(consult_id, asker_id))
    return consult


def offer_decline(*, offer_id: int, lawyer: User) -> Offer:
    """The lawyer passes; the consult is offered to the next candidate (declining twice is a
    no-op)."""
    require_role(lawyer, User.Role.LAWYER)
    with transaction.atomic():
        consult_id = (
            Offer.objects.filter(pk=offer_id, lawyer=lawyer)
            .values_list("consult_id", flat=True)
            .first()
        )
        if consult_id is None:
            raise errors.OfferNotFound()
        consult = consult_states.lock_consult(consult_id)
        offer = Offer.objects.select_for_update().get(pk=offer_id)
        if offer.state == Offer.State.DECLINED:
            return offer
        if offer.state == Offer.State.ACCEPTED:
            raise errors.OfferAlreadyAccepted()
        if offer.state != Offer.State.PENDING:
            raise _offer_refusal(offer, consult, lawyer) or errors.OfferWithdrawn()
        offer.state = Offer.State.DECLINED
        offer.responded_at = timezone.now()
        offer.save(update_fields=["state", "responded_at"])
        push_to_users_on_commit(
            [lawyer.pk],
            socket_frames.offer_revoked(
                offer_id=offer.pk, consult_id=consult.pk, reason="declined"
            ),
        )
        _rematch_after_offer_gone(consult, now=offer.responded_at)
    return offer
