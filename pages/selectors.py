"""Reads behind the asker and lawyer pages. Each returns what one page needs in a fixed number
of queries (pinned by tests/pages/test_views.py)."""

from __future__ import annotations

from dataclasses import dataclass, field

from django.core.exceptions import ObjectDoesNotExist
from django.db.models import F, Q, QuerySet, Window
from django.db.models.functions import RowNumber
from django.http import Http404
from django.urls import reverse
from django.utils import timezone

from accounts.models import User
from marketplace.models import Consult, LawyerProfile, Offer
from messaging.models import Message, Participant

# a chat shows at most this many recent messages on first render; older ones load on demand
CHAT_WINDOW = 100
OPEN_STATES = (Consult.State.QUEUED, Consult.State.OFFERED, Consult.State.ACTIVE)
WAITING_STATES = (Consult.State.QUEUED, Consult.State.OFFERED)


@dataclass
class ChatState:
    conversation_id: int
    messages: list[Message]
    last_seq: int
    my_read_seq: int = 0
    other_read_seq: int = 0
    unread: int = 0
    has_earlier: bool = False


@dataclass
class ConsultRoom:
    consult: Consult
    viewer_is_asker: bool
    chat: ChatState | None
    counterpart: User | None
    extras: dict = field(default_factory=dict)


def consult_queryset() -> QuerySet[Consult]:
    # payment and rating are billing's one-to-ones onto the consult (reverse, nullable)
    return Consult.objects.select_related(
        "question__city",
        "question__category",
        "lawyer",
        "asker",
        "payment",
        "rating",
    )


def consult_for_participant(*, user: User, consult_id: int) -> Consult:
    """The consult if `user` is its asker or its lawyer; 404 otherwise (as if it did not exist)."""
    consult = consult_queryset().filter(Q(asker=user) | Q(lawyer=user), pk=consult_id).first()
    if consult is None:
        raise Http404
    return consult


def recent_messages(conversation_ids: list[int], *, limit: int = CHAT_WINDOW) -> dict[int, list]:
    """The last `limit` messages of each conversation, oldest first, in one query."""
    if not conversation_ids:
        return {}
    rows = (
        Message.objects.filter(conversation_id__in=conversation_ids)
        .annotate(
            rank=Window(RowNumber(), partition_by=F("conversation_id"), order_by=F("seq").desc())
        )
        .filter(rank__lte=limit + 1)
        .select_related("sender")
        .order_by("conversation_id", "seq")
    )
    by_conversation: dict[int, list] = {cid: [] for cid in conversation_ids}
    for message in rows:
        by_conversation[message.conversation_id].append(message)
    return by_conversation


def read_cursors(conversation_ids: list[int]) -> dict[tuple[int, int], int]:
    """(conversation_id, user_id) -> last_read_seq, in one query."""
    if not conversation_ids:
        return {}
    return {
        (p.conversation_id, p.user_id): p.last_read_seq
        for p in Participant.objects.filter(conversation_id__in=conversation_ids).only(
            "conversation_id", "user_id", "last_read_seq"
        )
    }


def build_chats(*, conversations: list[tuple[int, int]], viewer: User) -> dict[int, ChatState]:
    """ChatState per conversation. `conversations` is [(conversation_id, counterpart_id)]."""
    ids = [cid for cid, _ in conversations]
    messages = recent_messages(ids)
    cursors = read_cursors(ids)
    chats: dict[int, ChatState] = {}
    for cid, other_id in conversations:
        rows = messages.get(cid, [])
        has_earlier = len(rows) > CHAT_WINDOW
        rows = rows[-CHAT_WINDOW:]
        last_seq = rows[-1].seq if rows else 0
        my_read = cursors.get((cid, viewer.pk), 0)
        unread = sum(1 for m in rows if m.seq > my_read and m.sender_id != viewer.pk)
        chats[cid] = ChatState(
            conversation_id=cid,
            messages=rows,
            last_seq=last_seq,
            my_read_seq=my_read,
            other_read_seq=cursors.get((cid, other_id), 0) if other_id else 0,
            unread=unread,
            has_earlier=has_earlier,
        )
    return chats


def consult_room(*, user: User, consult_id: int) -> ConsultRoom:
    consult = consult_for_participant(user=user, consult_id=consult_id)
    viewer_is_asker = consult.asker_id == user.pk
    counterpart = consult.lawyer if viewer_is_asker else consult.asker
    chat = None
    if consult.conversation_id:
        chats = build_chats(
            conversations=[(consult.conversation_id, counterpart.pk if counterpart else 0)],
            viewer=user,
        )
        chat = chats[consult.conversation_id]
    room = ConsultRoom(
        consult=consult, viewer_is_asker=viewer_is_asker, chat=chat, counterpart=counterpart
    )
    if consult.state in WAITING_STATES:
        room.extras["offered_count"] = consult.offers.filter(state=Offer.State.PENDING).count()
    payment = getattr(consult, "payment", None) if _has_payment(consult) else None
    if viewer_is_asker and payment is not None and payment.state == "requires_payment":
        room.extras["pay_url"] = reverse("billing:pay", args=[payment.pk])
    room.extras["payment"] = payment
    room.extras["rating"] = consult.rating if _has_rating(consult) else None
    return room


def _has_payment(consult: Consult) -> bool:
    try:
        return consult.payment is not None  # type: ignore[attr-defined]
    except ObjectDoesNotExist:
        return False


def _has_rating(consult: Consult) -> bool:
    try:
        return consult.rating is not None  # type: ignore[attr-defined]
    except ObjectDoesNotExist:
        return False


def consults_of_asker(*, user: User) -> QuerySet[Consult]:
    return (
        Consult.objects.filter(asker=user)
        .select_related("question__city", "question__category", "lawyer", "payment")
        .order_by("-created_at")
    )


def lawyer_live_offers(*, lawyer: User) -> QuerySet[Offer]:
    return (
        Offer.objects.filter(
            lawyer=lawyer, state=Offer.State.PENDING, expires_at__gt=timezone.now()
        )
        .select_related("consult__question__city", "consult__question__category")
        .order_by("expires_at")
    )


def lawyer_open_consults(*, lawyer: User) -> QuerySet[Consult]:
    return (
        Consult.objects.filter(lawyer=lawyer, state=Consult.State.ACTIVE)
        .select_related("asker", "question__city", "question__category", "conversation")
        .order_by("-accepted_at")
    )


def lawyer_money_and_figures(*, lawyer: User) -> dict:
    """Earnings (captured, and authorised-but-not-yet-earned) and the lawyer's own response
    figures, from billing."""
    from billing import metrics
    from billing import selectors as billing_selectors

    figures = metrics.lawyer_figures(lawyer_id=lawyer.pk)
    return {
        "earnings": billing_selectors.lawyer_earning_totals(lawyer=lawyer),
        "pending_earnings": billing_selectors.lawyer_pending_earnings(lawyer=lawyer),
        "figures": figures,
    }


def lawyer_profile(*, lawyer: User) -> LawyerProfile | None:
    return LawyerProfile.objects.select_related("home_city").filter(user=lawyer).first()


def lawyer_rejection_reason(*, profile: LawyerProfile | None) -> str:
    """Staff's reason for the latest rejection; queries only for a rejected profile."""
    if profile is None or profile.verification != LawyerProfile.Verification.REJECTED:
        return ""
    decision = profile.verification_decisions.order_by("-decided_at", "-pk").first()
    return decision.reason if decision else ""
