"""The consult state machine (DESIGN.md, Domain model). The only code that writes `Consult.state`.

    pending_payment ─paid─▶ queued ─offers made─▶ offered ─accept─▶ active ─close─▶ resolved
                              ▲                      │                  │
                              └─every offer gone─────┘                  └─staff refund─▶ refunded
    queued / offered / active without a first reply ─SLA deadline─▶ expired
    pending_payment / queued / offered ─asker cancels─▶ canceled

Every transition locks the consult row (SELECT … FOR UPDATE; a second lock in the same
transaction is free), checks the source state, stamps its timestamp, saves, and sends the
matching socket frame after commit. An illegal transition raises `IllegalTransition` and
changes nothing. Callers that already hold the lock pass the same `consult_id`.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import timedelta
from functools import lru_cache

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Field
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import User
from accounts.realtime import push_to_users_on_commit
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


def _push_updated(consult: Consult, *, offered: int = 0) -> None:
    push_to_users_on_commit(
        _participants(consult), socket_frames.consult_updated(consult, offered=offered)
    )


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
    if not prepared_sql.insert(consult, unless_conflict=True):
        raise ConsultAlreadyOpen()
    if not paid:
        _enqueue_matching(consult)
        _push_updated(consult)
    return consult


@transaction.atomic
def consult_mark_paid(*, consult_id: int) -> Consult:
    """pending_payment → queued, once billing holds an authorised payment. Starts the SLA clock
    and enqueues matching after commit. Calling it again for a consult already past
    pending_payment raises IllegalTransition (billing checks the payment state first)."""
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
    _push_updated(consult)
    return consult


SEARCH_FIELDS = frozenset({"search_round", "search_scope", "scope_widened_at", "matched_at"})


def consult_mark_offered(
    *, consult_id: int, offered: int, locked: Consult | None = None, **search: object
) -> Consult:
    """queued → offered when a matching pass made offers (`offered` live offers now). The pass
    may hand over what it changed of the search (SEARCH_FIELDS) to be saved in the same
    UPDATE. `locked`: the caller's instance of this consult, whose row it already holds locked
    in its open transaction (the matching pass): no second lock, no savepoint."""
    unknown = set(search) - SEARCH_FIELDS
    if unknown:
        raise TypeError(f"not search fields: {sorted(unknown)}")
    if locked is None:
        with transaction.atomic():
            return _mark_offered(lock_consult(consult_id), offered=offered, search=search)
    if locked.pk != consult_id or not transaction.get_connection().in_atomic_block:
        raise ValueError("`locked` is the consult this transaction holds locked")
    return _mark_offered(locked, offered=offered, search=search)


def _mark_offered(consult: Consult, *, offered: int, search: dict[str, object]) -> Consult:
    _check(consult, State.OFFERED)
    consult.state = State.OFFERED
    if consult.first_offered_at is None:
        consult.first_offered_at = timezone.now()
    for name, value in search.items():
        setattr(consult, name, value)
    consult.updated_at = timezone.now()
    _update_columns(consult, ("state", "first_offered_at", "updated_at", *sorted(search)))
    _push_updated(consult, offered=offered)
    return consult


@lru_cache(maxsize=16)
def _update_sql(names: tuple[str, ...]) -> tuple[str, tuple[Field, ...]]:
    quote = connection.ops.quote_name
    fields = tuple(Consult._meta.get_field(name) for name in names)
    sets = ", ".join(f"{quote(str(field.column))} = %s" for field in fields)  # type: ignore[union-attr]
    table = quote(Consult._meta.db_table)
    sql = f"UPDATE {table} SET {sets} WHERE id = %s"  # noqa: S608 - names from the model
    return sql, fields  # type: ignore[return-value]


def _update_columns(consult: Consult, names: tuple[str, ...]) -> None:
    """save(update_fields=names) as one fixed UPDATE (the matching pass's hot path): the values
    as the model holds them, `updated_at` included only when named and set by the caller."""
    sql, fields = _update_sql(names)
    values = [
        field.get_db_prep_save(getattr(consult, field.attname), connection) for field in fields
    ]
    prepared_sql.execute(sql, [*values, consult.pk])


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
def consult_mark_refunded(*, consult_id: int) -> Consult:
    """active / resolved → refunded, only after a staff refund of a captured payment (billing
    calls this in the refund's transaction). A consult never answered cannot be refunded:
    its payment was never captured."""
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
    _push_updated(consult)
    return consult
