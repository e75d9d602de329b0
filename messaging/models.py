from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class Conversation(models.Model):
    """A private thread. `last_seq` is the counter that gives every message a gap-free `seq`:
    incremented under the row lock in the transaction that inserts the message."""

    class Kind(models.TextChoices):
        CONSULT = "consult", _("Consultation")
        PLATFORM = "platform", _("Lawline notices")
        DIRECT = "direct", _("Direct")

    kind = models.CharField(max_length=16, choices=Kind.choices, default=Kind.DIRECT)
    # what makes the conversation unique, so opening it twice returns the same row:
    # "platform:<user>", "direct:<a>:<b>", "consult:<consult>"; null when nothing does
    key = models.CharField(max_length=64, unique=True, null=True, blank=True)
    last_seq = models.PositiveBigIntegerField(default=0)
    last_message_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("conversation")
        verbose_name_plural = _("conversations")

    def __str__(self) -> str:
        return f"Conversation {self.pk} ({self.kind})"


class Participant(models.Model):
    conversation = models.ForeignKey(
        Conversation, on_delete=models.CASCADE, related_name="participants"
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="conversation_memberships"
    )
    # the highest seq this participant has read (shown to the other side as a read receipt)
    last_read_seq = models.PositiveBigIntegerField(default=0)
    joined_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["conversation", "user"], name="messaging_participant_unique"
            ),
        ]
        indexes = [models.Index(fields=["user", "conversation"])]

    def __str__(self) -> str:
        return f"{self.user_id} in conversation {self.conversation_id}"


class Message(models.Model):
    class Kind(models.TextChoices):
        TEXT = "text", _("Text")
        NOTICE = "notice", _("Platform notice")

    conversation = models.ForeignKey(
        Conversation, on_delete=models.CASCADE, related_name="messages"
    )
    seq = models.PositiveBigIntegerField()
    # null for platform notices
    sender = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="messages_sent",
    )
    kind = models.CharField(max_length=10, choices=Kind.choices, default=Kind.TEXT)
    body = models.TextField(max_length=4000)
    # idempotency key chosen by the sending client; unique per sender (for platform notices,
    # which have no sender, the notice's own key: unique per conversation)
    client_id = models.CharField(max_length=64, null=True, blank=True)
    # platform notices only: {"kind": ..., "params": {...}} so readers can render the notice
    # in their own language; `body` holds it rendered in the default language
    notice = models.JSONField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["conversation", "seq"], name="messaging_message_seq_unique"
            ),
            models.UniqueConstraint(
                fields=["sender", "client_id"],
                condition=models.Q(client_id__isnull=False),
                name="messaging_message_client_id_unique",
            ),
            models.UniqueConstraint(
                fields=["conversation", "client_id"],
                condition=models.Q(sender__isnull=True, client_id__isnull=False),
                name="messaging_notice_key_unique",
            ),
        ]

    def __str__(self) -> str:
        return f"Message {self.conversation_id}#{self.seq}"


class StaffAccessRecord(models.Model):
    """Audit trail: a staff member opened a private conversation."""

    staff = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    conversation = models.ForeignKey(
        Conversation, on_delete=models.PROTECT, related_name="staff_access_records"
    )
    reason = models.CharField(max_length=200, blank=True)
    accessed_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("staff access record")
        verbose_name_plural = _("staff access records")

    def __str__(self) -> str:
        return f"staff {self.staff_id} read conversation {self.conversation_id}"
