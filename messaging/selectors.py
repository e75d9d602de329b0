"""Messaging's reads. Every function takes the reader and returns only what the reader may see:
a conversation the reader is not in does not exist for them."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta

from django.conf import settings
from django.db.models import Count, F, IntegerField, OuterRef, Q, Subquery
from django.db.models.functions import Coalesce
from django.utils import timezone

from accounts.models import User
from messaging.errors import ConversationNotFound
from messaging.models import Conversation, Message, Participant

PRESENCE_PEER_LIMIT = 500


@dataclass
class ConversationSummary:
    """One row of a user's conversation list."""

    conversation: Conversation
    last_read_seq: int
    unread_count: int
    consult_id: int | None
    others: list[Participant] = field(default_factory=list)
    last_message: Message | None = None


def conversation_list(*, user: User, limit: int = 50, offset: int = 0) -> list[ConversationSummary]:
    """The user's conversations, most recent activity first. Three queries, whatever the count:
    memberships (with unread counts), the other participants, the last messages."""
    unread = (
        Message.objects.filter(
            conversation=OuterRef("conversation_id"), seq__gt=OuterRef("last_read_seq")
        )
        .exclude(sender_id=user.pk)
        .order_by()
        .values("conversation")
        .annotate(n=Count("id"))
        .values("n")
    )
    memberships = list(
        Participant.objects.filter(user=user)
        .select_related("conversation")
        .annotate(
            unread_count=Coalesce(Subquery(unread, output_field=IntegerField()), 0),
            consult_id=F("conversation__consult__id"),
        )
        .order_by(F("conversation__last_message_at").desc(nulls_last=True), "-conversation_id")[
            offset : offset + limit
        ]
    )
    summaries = {
        m.conversation_id: ConversationSummary(
            conversation=m.conversation,
            last_read_seq=m.last_read_seq,
            unread_count=m.unread_count,  # type: ignore[attr-defined]
            consult_id=m.consult_id,  # type: ignore[attr-defined]
        )
        for m in memberships
    }
    if not summaries:
        return []
    ids = list(summaries)
    others = (
        Participant.objects.filter(conversation_id__in=ids)
        .exclude(user=user)
        .select_related("user")
        .order_by("conversation_id", "id")
    )
    for other in others:
        summaries[other.conversation_id].others.append(other)
    last_messages = Message.objects.filter(conversation_id__in=ids, seq=F("conversation__last_seq"))
    for message in last_messages:
        summaries[message.conversation_id].last_message = message
    return list(summaries.values())


def conversation_messages(
    *,
    user: User,
    conversation_id: int,
    after_seq: int = 0,
    before_seq: int | None = None,
    limit: int = 50,
) -> tuple[list[Message], bool]:
    """A page of the conversation's messages in seq order and whether more follow in the
    direction asked: after `after_seq` (catch-up, oldest first), or when `before_seq` is given
    the `limit` messages just before it (scrolling back). Two queries."""
    if not Participant.objects.filter(conversation_id=conversation_id, user=user).exists():
        raise ConversationNotFound()
    messages = Message.objects.filter(conversation_id=conversation_id)
    if before_seq is not None:
        page = list(
            messages.filter(seq__lt=before_seq, seq__gt=after_seq).order_by("-seq")[: limit + 1]
        )
        has_more = len(page) > limit
        return list(reversed(page[:limit])), has_more
    page = list(messages.filter(seq__gt=after_seq).order_by("seq")[: limit + 1])
    return page[:limit], len(page) > limit


def messages_after(*, conversation_id: int, after_seq: int, limit: int) -> list[Message]:
    """For `resume`, whose caller has checked membership: the next messages in seq order."""
    return list(
        Message.objects.filter(conversation_id=conversation_id, seq__gt=after_seq).order_by("seq")[
            :limit
        ]
    )


def conversation_last_seqs(*, user_id: int, conversation_ids: list[int]) -> dict[int, int]:
    """{conversation: last_seq} for those of the conversations the user is in."""
    return dict(
        Participant.objects.filter(user_id=user_id, conversation_id__in=conversation_ids)
        .values_list("conversation_id", "conversation__last_seq")
        .order_by()
    )


def conversation_membership(*, user_id: int, conversation_id: int) -> tuple[str, list[int]]:
    """(kind, the other participants' ids) of a conversation the user is in."""
    rows = list(
        Participant.objects.filter(conversation_id=conversation_id)
        .values_list("user_id", "conversation__kind")
        .order_by()
    )
    if not any(uid == user_id for uid, _ in rows):
        raise ConversationNotFound()
    return rows[0][1], [uid for uid, _ in rows if uid != user_id]


def presence_peers(*, user_id: int) -> list[int]:
    """Whom the user's presence concerns: the people they talked with lately (not the
    platform), most recent first, at most PRESENCE_PEER_LIMIT of them."""
    since = timezone.now() - timedelta(days=settings.MESSAGING_PRESENCE_PEER_DAYS)
    recent = Q(conversation__last_message_at__gte=since) | Q(
        conversation__last_message_at__isnull=True, conversation__created_at__gte=since
    )
    conversations = (
        Participant.objects.filter(user_id=user_id)
        .filter(recent)
        .exclude(conversation__kind=Conversation.Kind.PLATFORM)
        .values("conversation_id")
    )
    rows = (
        Participant.objects.filter(conversation_id__in=Subquery(conversations))
        .exclude(user_id=user_id)
        .values_list("user_id", flat=True)
        .order_by(F("conversation__last_message_at").desc(nulls_last=True))
    )
    peers: list[int] = []
    seen: set[int] = set()
    for uid in rows[: PRESENCE_PEER_LIMIT * 4]:
        if uid not in seen:
            seen.add(uid)
            peers.append(uid)
            if len(peers) == PRESENCE_PEER_LIMIT:
                break
    return peers


@dataclass
class NoticeInbox:
    """The user's platform notices, newest first, and their read cursor as it was."""

    conversation_id: int | None
    last_read_seq: int
    notices: list[Message]

    @property
    def newest_seq(self) -> int:
        return self.notices[0].seq if self.notices else 0


def notice_inbox(*, user: User, limit: int = 100) -> NoticeInbox:
    """The `limit` newest notices of the user's `platform` conversation. Two queries (one when
    no notice was ever sent)."""
    membership = (
        Participant.objects.filter(user=user, conversation__kind=Conversation.Kind.PLATFORM)
        .only("conversation_id", "last_read_seq")
        .first()
    )
    if membership is None:
        return NoticeInbox(conversation_id=None, last_read_seq=0, notices=[])
    notices = list(
        Message.objects.filter(conversation_id=membership.conversation_id).order_by("-seq")[:limit]
    )
    return NoticeInbox(
        conversation_id=membership.conversation_id,
        last_read_seq=membership.last_read_seq,
        notices=notices,
    )


def notice_unread_count(*, user: User) -> int:
    """Unread platform notices, in one query. Only the platform writes to the inbox and seqs
    have no gaps, so the count is the distance from the read cursor to the last seq."""
    unread = (
        Participant.objects.filter(user=user, conversation__kind=Conversation.Kind.PLATFORM)
        .values_list(F("conversation__last_seq") - F("last_read_seq"), flat=True)
        .first()
    )
    return max(int(unread or 0), 0)
