"""The consult state machine (DESIGN.md, Domain model). The only code that writes `Consult.state`.

    pending_payment ─paid─▶ queued ─offers made─▶ offered ─accept─▶ active ─close─▶ resolved
                              ▲                      │                  │
                              └─every offer gone─────┘                  └─staff refund─▶ refunded
    queued / offered / active without a first reply ─SLA deadline─▶ expired
    pending_payment / queued / offered ─asker cancels─▶ canceled

Every transition locks the consult row (SELECT … FOR UPDATE; a second lock in the same
transaction is free), checks the source state, stamps its timestamp, saves, and sends the
matching socket frame after commit. An illegal transition raises `IllegalTransition` and
changes nothing. Callers that already hold the lock pass the same `consult_id`. Two are one
statement without a lock, on the way from a question to its first offer: opening a consult
(a unique index keeps one open per question) and a matching pass's offers (`consult_offer`,
applied only while the consult is in the state and round the pass read).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta
from functools import lru_cache
from typing import Any

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import User
from accounts.realtime import push_many_on_commit, push_to_users_on_commit
from config import prepared_sql
from marketplace import socket_frames
from marketplace.errors import ConsultAlreadyOpen, IllegalTransition
from marketplace.models import Consult, Offer, Question

State = Consult.State

# target state → the states it may be reached from
ALLOWED_SOURCES: dict[str, frozenset[str]] = {
    State.QUEUED: frozenset({State.PENDING_PAYMENT, State.OFFERED}),
    State.OFFERED: frozenset({State.QUEUED}),
    State.ACTIVE: frozenset({State.OFFERED}),
    State.RESOLVED: frozenset({State.ACTIVE}),
    State.EXPIRED: frozenset({State.QUEUED, State.OFFERED, State.ACTIVE}),
    State.CANCELED: frozenset({State.PENDING_PAYMENT, State.QUEUED, State.OFFERED}),
    State.REFUNDED: frozenset({State.ACTIVE, State.RESOLVED}),
}
OPEN_STATES = socket_frames.OPEN_STATES
CLOSED_STATES = frozenset({State.RESOLVED, State.EXPIRED, State.REFUNDED, State.CANCELED})


def lock_consult(consult_id: int) -> Consult:
    """The consult row, locked until the end of the caller's transaction."""
    return Consult.objects.select_for_update(of=("self",)).get(pk=consult_id)


def _check(consult: Consult, target: str, *, sources: Iterable[str] | None = None) -> None:
    allowed = ALLOWED_SOURCES[target] if sources is None else frozenset(sources)
    if consult.state not in allowed:
        raise IllegalTransition(
            _("Consultation %(id)s cannot go from %(source)s to %(target)s.")
            % {"id": consult.pk, "source": consult.state, "target": target}
        )


def _participants(consult: Consult) -> list[int]:
    return [uid for uid in (consult.asker_id, consult.lawyer_id) if uid is not None]


def _push_updated(
    consult: Consult, *, offered: int = 0, payment: dict[str, Any] | None = None
) -> None:
    push_to_users_on_commit(
        _participants(consult),
        socket_frames.consult_updated(consult, offered=offered, payment=payment),
    )


def consult_payment_moved(*, consult: Consult, payment: dict[str, Any]) -> None:
    """Tell the participants, after commit, that the consult's payment moved while the consult
    itself stayed where it is (billing's capture and cancel). Precondition: the consult row is
    locked."""
    offered = 0
    if consult.state in socket_frames.SEARCHING_STATES:
        offered = Offer.objects.filter(
            consult=consult, state=Offer.State.PENDING, expires_at__gt=timezone.now()
        ).count()
    _push_updated(consult, offered=offered, payment=payment)


def _enter_queued(consult: Consult, now) -> None:
    consult.queued_at = now
    consult.scope_widened_at = now
    # the first-response guarantee runs from queued until the lawyer's first reply
    consult.sla_deadline = now + timedelta(seconds=settings.CONSULT_SLA_SECONDS)


def _enqueue_matching(consult: Consult) -> None:
    from marketplace import presence
    from marketplace.tasks import match_consult

    match_consult.delay_on_commit(consult.pk, consult.search_round)
    transaction.on_commit(presence.note_waiting)


def revoke_pending_offers(consult: Consult, *, reason: str, keep: Iterable[int] = ()) -> list[int]:
    """Revoke the consult's live offers (all but `keep`) and tell their lawyers after commit.
    Precondition: the consult row is locked. Returns the revoked offer ids."""
    live = Offer.objects.filter(consult=consult, state=Offer.State.PENDING).exclude(pk__in=keep)
    revoked = list(live.values_list("pk", "lawyer_id"))
    if not revoked:
        return []
    Offer.objects.filter(pk__in=[pk for pk, _ in revoked]).update(
        state=Offer.State.REVOKED, responded_at=timezone.now()
    )
    for offer_id, lawyer_id in revoked:
        push_to_users_on_commit(
            [lawyer_id],
            socket_frames.offer_revoked(offer_id=offer_id, consult_id=consult.pk, reason=reason),
        )
    return [pk for pk, _ in revoked]


# --- transitions ----------------------------------------------------------------------------


@lru_cache(maxsize=1)
def _one_open_per_question() -> str:
    """The conflict target of the partial unique index `consult_one_open_per_question`."""
    states = ", ".join(f"'{state}'" for state in sorted(OPEN_STATES))
    return f"({connection.ops.quote_name('question_id')}) WHERE state IN ({states})"


def consult_open(
    *,
    question: Question,
    asker: User,
    paid: bool,
    price: int,
    currency: str,
    requested_lawyer: User | None = None,
) -> Consult:
    """Create the consult in its first state: `pending_payment` when paid (it enters matching
    through `consult_mark_paid`), else `queued` with matching enqueued after commit. One
    INSERT, which needs no transaction of its own; `ConsultAlreadyOpen` when the question
    has an open consult (a unique index, so a double submit opens one)."""
    now = timezone.now()
    consult = Consult(
        question=question,
        asker=asker,
        requested_lawyer=requested_lawyer,
        is_paid=paid,
        price=price,
        currency=currency,
        state=State.PENDING_PAYMENT if paid else State.QUEUED,
    )
    if not paid:
        _enter_queued(consult, now)
    # on the post → offer.new path: the ORM's save compiled the INSERT on every consult
    if not prepared_sql.insert(consult, unless_conflict_on=_one_open_per_question()):
        raise ConsultAlreadyOpen()
    if not paid:
        _enqueue_matching(consult)
        _push_updated(consult)
    return consult


@transaction.atomic
def consult_mark_paid(*, consult_id: int, payment: dict[str, Any] | None = None) -> Consult:
    """pending_payment → queued, once billing holds an authorised payment. Starts the SLA clock
    and enqueues matching after commit. Calling it again for a consult already past
    pending_payment raises IllegalTransition (billing checks the payment state first).
    `payment` rides on the `consult.updated` frame."""
    consult = lock_consult(consult_id)
    _check(consult, State.QUEUED, sources={State.PENDING_PAYMENT})
    now = timezone.now()
    consult.state = State.QUEUED
    consult.paid_at = now
    _enter_queued(consult, now)
    consult.save(
        update_fields=[
            "state",
            "paid_at",
            "queued_at",
            "scope_widened_at",
            "sla_deadline",
            "updated_at",
        ]
    )
    _enqueue_matching(consult)
    _push_updated(consult, payment=payment)
    return consult


@lru_cache(maxsize=1)
def _offer_sql() -> str:
    quote = connection.ops.quote_name
    consult, offer = quote(Consult._meta.db_table), quote(Offer._meta.db_table)
    return (
        f"WITH moved AS (UPDATE {consult}"  # noqa: S608 - names from the models
        " SET state = %(offered)s, first_offered_at = coalesce(first_offered_at, %(now)s),"
        " search_round = %(round)s + 1, search_scope = %(scope)s,"
        " scope_widened_at = %(widened)s, matched_at = %(matched)s, updated_at = %(now)s"
        " WHERE id = %(consult)s AND state = %(seen)s AND search_round = %(round)s"
        " RETURNING id)"
        f" INSERT INTO {offer}"
        " (consult_id, lawyer_id, state, scope, search_round, rank_score, created_at, expires_at)"
        " SELECT moved.id, x.lawyer_id, %(pending)s, %(scope)s, %(round)s + 1, x.score, %(now)s,"
        " %(expires)s"
        " FROM moved CROSS JOIN unnest(%(lawyers)s::bigint[], %(scores)s::float8[])"
        " WITH ORDINALITY AS x(lawyer_id, score, n)"
        " ORDER BY x.n"
        " RETURNING id, lawyer_id"
    )


def consult_offer(
    consult: Consult,
    *,
    ranked: list[tuple[int, float]],
    expires_at: datetime,
    offered: int,
) -> list[Offer] | None:
    """queued → offered, or an offered consult topped up: a matching pass's offers to the
    `ranked` lawyers (lawyer id, score; best first) and the consult's new search round, in one
    statement, with no lock taken before it. `consult` is as the pass read it, with the search
    fields it changed (scope, scope_widened_at, matched_at) set; the statement applies only
    while the consult is still in the state and round the pass read: None, nothing written,
    when it moved on meanwhile (another pass, an accept, a cancel); read it again. In a
    transaction of its own (`prepared_sql.fetch_all_then_commit`) unless the caller's.
    `offered`: the live offers after this pass. The offers' lawyers get `offer.new` and the
    asker `consult.updated` after commit, in one push."""
    _check(consult, State.OFFERED, sources={State.QUEUED, State.OFFERED})
    if not ranked:
        raise ValueError("a pass that offers nothing does not move the consult")
    now = timezone.now()
    # committed by this process once the rows are back: a worker killed mid-statement
    # leaves no offers that nobody was told of (its task runs again)
    rows = prepared_sql.fetch_all_then_commit(
        _offer_sql(),
        {
            "consult": consult.pk,
            "seen": str(consult.state),
            "round": consult.search_round,
            "offered": str(State.OFFERED),
            "pending": str(Offer.State.PENDING),
            "scope": str(consult.search_scope),
            "widened": consult.scope_widened_at,
            "matched": consult.matched_at,
            "now": now,
            "expires": expires_at,
            "lawyers": [lawyer_id for lawyer_id, _ in ranked],
            "scores": [float(score) for _, score in ranked],
        },
        logged=True,
    )
    if not rows:
        return None
    consult.state = State.OFFERED
    consult.search_round += 1
    consult.first_offered_at = consult.first_offered_at or now
    consult.updated_at = now
    ids = {lawyer_id: pk for pk, lawyer_id in rows}
    offers = []
    for lawyer_id, score in ranked:
        offer = Offer(
            pk=ids[lawyer_id],
            consult=consult,
            lawyer_id=lawyer_id,
            state=Offer.State.PENDING,
            scope=consult.search_scope,
            search_round=consult.search_round,
            rank_score=score,
            created_at=now,
            expires_at=expires_at,
        )
        offer._state.adding = False
        offers.append(offer)
    # the lawyers first: the asker hears of a search that already reached them
    pushes = [([offer.lawyer_id], socket_frames.offer_new(offer)) for offer in offers]
    pushes.append((_participants(consult), socket_frames.consult_updated(consult, offered=offered)))
    push_many_on_commit(pushes)
    return offers


@transaction.atomic
def consult_requeue(*, consult_id: int, widen_to: str | None = None) -> Consult:
    """offered → queued when every offer expired or was declined; matching runs again after
    commit, in the wider scope `widen_to` when given."""
    consult = lock_consult(consult_id)
    _check(consult, State.QUEUED, sources={State.OFFERED})
    consult.state = State.QUEUED
    fields = ["state", "updated_at"]
    if widen_to and widen_to != consult.search_scope:
        consult.search_scope = widen_to
        consult.scope_widened_at = timezone.now()
        fields += ["search_scope", "scope_widened_at"]
    consult.save(update_fields=fields)
    _enqueue_matching(consult)
    _push_updated(consult, offered=0)
    return consult


@transaction.atomic
def consult_activate(*, consult_id: int, lawyer_id: int) -> Consult:
    """offered → active: the lawyer whose offer won takes the consult. The caller opens the
    conversation and sends `consult.matched` (it needs the conversation id)."""
    consult = lock_consult(consult_id)
    _check(consult, State.ACTIVE)
    consult.state = State.ACTIVE
    consult.lawyer_id = lawyer_id
    consult.accepted_at = timezone.now()
    consult.save(update_fields=["state", "lawyer", "accepted_at", "updated_at"])
    return consult


@transaction.atomic
def consult_record_first_reply(*, consult_id: int) -> Consult:
    """Stamp the lawyer's first reply on an active consult (it stays active); this stops the
    SLA clock. A second call is a no-op."""
    consult = lock_consult(consult_id)
    if consult.state != State.ACTIVE:
        raise IllegalTransition(
            _("Consultation %(id)s is %(state)s; only an active one gets a first reply.")
            % {"id": consult.pk, "state": consult.state}
        )
    if consult.first_reply_at is None:
        consult.first_reply_at = timezone.now()
        consult.save(update_fields=["first_reply_at", "updated_at"])
    return consult


@transaction.atomic
def consult_resolve(*, consult_id: int) -> Consult:
    """active → resolved (a participant closes the consult)."""
    consult = lock_consult(consult_id)
    _check(consult, State.RESOLVED)
    consult.state = State.RESOLVED
    consult.closed_at = timezone.now()
    consult.save(update_fields=["state", "closed_at", "updated_at"])
    _push_updated(consult)
    return consult


@transaction.atomic
def consult_cancel(*, consult_id: int) -> Consult:
    """pending_payment / queued / offered → canceled (the asker stops before any lawyer took
    it). Live offers are withdrawn."""
    consult = lock_consult(consult_id)
    _check(consult, State.CANCELED)
    revoke_pending_offers(consult, reason="withdrawn")
    consult.state = State.CANCELED
    consult.closed_at = timezone.now()
    consult.save(update_fields=["state", "closed_at", "updated_at"])
    _push_updated(consult)
    return consult


@transaction.atomic
def consult_expire(*, consult_id: int) -> Consult:
    """queued / offered / active-without-a-first-reply → expired: the SLA deadline passed with
    no first reply. Billing's sweep calls this and cancels the payment in the same
    transaction. Live offers are withdrawn; later lawyer messages get `consult_expired`."""
    consult = lock_consult(consult_id)
    _check(consult, State.EXPIRED)
    if consult.state == State.ACTIVE and consult.first_reply_at is not None:
        raise IllegalTransition(
            _("Consultation %(id)s was answered in time; it cannot expire.") % {"id": consult.pk}
        )
    revoke_pending_offers(consult, reason="withdrawn")
    consult.state = State.EXPIRED
    consult.expired_at = timezone.now()
    consult.closed_at = consult.expired_at
    consult.save(update_fields=["state", "expired_at", "closed_at", "updated_at"])
    _push_updated(consult)
    return consult


@transaction.atomic
def consult_mark_refunded(*, consult_id: int, payment: dict[str, Any] | None = None) -> Consult:
    """active / resolved → refunded, only after a staff refund of a captured payment (billing
    calls this in the refund's transaction). A consult never answered cannot be refunded:
    its payment was never captured. `payment` rides on the `consult.updated` frame."""
    consult = lock_consult(consult_id)
    _check(consult, State.REFUNDED)
    if consult.first_reply_at is None:
        raise IllegalTransition(
            _("Consultation %(id)s was never answered, so nothing was charged.")
            % {"id": consult.pk}
        )
    now = timezone.now()
    consult.state = State.REFUNDED
    consult.refunded_at = now
    consult.closed_at = consult.closed_at or now
    consult.save(update_fields=["state", "refunded_at", "closed_at", "updated_at"])
    _push_updated(consult, payment=payment)
    return consult
