from __future__ import annotations

from django.contrib.auth.models import AbstractUser
from django.db import models
from django.db.models.functions import Lower
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

# a closed account's username is this and its id: "~" is never in a registered name
DELETED_USERNAME_PREFIX = "~deleted-"


class User(AbstractUser):
    class Role(models.TextChoices):
        ASKER = "asker", _("Asker")
        LAWYER = "lawyer", _("Lawyer")
        STAFF = "staff", _("Staff")

    role = models.CharField(max_length=16, choices=Role.choices, default=Role.ASKER)
    # personal data: shown masked in public, never logged or passed to tasks
    phone = models.CharField(max_length=20, blank=True)
    # `email` is the confirmed address, the only one reset links and security mails go to, and
    # unique among accounts; a new address waits in `email_pending` until its owner opens the
    # link mailed to it (accounts.services.user_email_change, email_confirm). A pending claim
    # is unique to nothing, so typing someone else's address never blocks its owner.
    email_pending = models.EmailField(max_length=254, blank=True)
    # when the pending address was set: a confirmation link is bound to it, so a link mailed
    # for an earlier claim (even of the same address) cannot confirm a later one
    email_pending_at = models.DateTimeField(null=True, blank=True)
    # when the password last changed (account page, API or reset), told in the security mail
    password_changed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(Lower("username"), name="accounts_user_username_ci_unique"),
            # among confirmed addresses only: a password reset link goes to one account
            models.UniqueConstraint(
                Lower("email"),
                condition=~models.Q(email=""),
                name="accounts_user_email_ci_unique",
            ),
        ]

    @property
    def is_lawyer(self) -> bool:
        return self.role == self.Role.LAWYER

    @property
    def is_staff_member(self) -> bool:
        """Staff by role or by Django's flag (the demo admin and `createsuperuser` have the flag)."""
        return self.is_staff or self.role == self.Role.STAFF

    @property
    def is_asker(self) -> bool:
        return self.role == self.Role.ASKER

    @property
    def is_deleted(self) -> bool:
        """Closed by its owner (accounts.services.user_delete): the row stays, the person left."""
        return not self.is_active and self.username.startswith(DELETED_USERNAME_PREFIX)

    @property
    def display_name(self) -> str:
        """Chinese names read family name first, with no space (李建国); others "First Last"."""
        if self.is_deleted:
            return str(_("Former user"))
        first, last = self.first_name.strip(), self.last_name.strip()
        if not (first or last):
            return self.username
        if any("\u4e00" <= ch <= "\u9fff" for ch in first + last):
            return f"{last}{first}"
        return f"{first} {last}".strip()


class ApiToken(models.Model):
    """A bearer token for API and socket clients. Only its SHA-256 is stored."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="api_tokens")
    key_hash = models.CharField(max_length=64, unique=True)
    prefix = models.CharField(max_length=8)
    name = models.CharField(max_length=100, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"{self.prefix}… ({self.user})"


class AccountMail(models.Model):
    """The outbox of account mails (accounts.outbox): a mail to send is a row written in the
    transaction of the change that causes it, so it is kept even when the broker cannot be
    reached then. The task queued after commit, or beat's sweep later, sends it once and marks
    it. Links (reset, confirmation) are made when it is sent, never stored."""

    class Kind(models.TextChoices):
        PASSWORD_RESET = "reset"  # noqa: S105 - a kind of mail
        EMAIL_CONFIRM = "email-confirm"
        PASSWORD_CHANGED = "password-changed"  # noqa: S105 - a kind of mail
        # to the previous confirmed address, when a new one is confirmed
        EMAIL_CHANGED = "email-changed"
        # to the confirmed address the user removed (leaving the account none)
        EMAIL_REMOVED = "email-removed"

    class State(models.TextChoices):
        PENDING = "pending"
        SENT = "sent"
        # not sent and never will be: no address any more, refused by the mail server, or given
        # up after ACCOUNT_MAIL_MAX_ATTEMPTS tries or ACCOUNT_MAIL_GIVE_UP_SECONDS
        DROPPED = "dropped"

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="+")
    kind = models.CharField(max_length=32, choices=Kind.choices)
    language = models.CharField(max_length=16)
    # personal data, for a mail to an address the account no longer has (the previous one, told
    # that it was replaced or removed); emptied once the mail is sent or dropped. Other mails go
    # to the address on the account when they are sent.
    address = models.EmailField(max_length=254, blank=True)
    # for Kind.PASSWORD_CHANGED: how many API tokens the change revoked, which the mail tells
    tokens_revoked = models.PositiveIntegerField(default=0)
    state = models.CharField(max_length=16, choices=State.choices, default=State.PENDING)
    created_at = models.DateTimeField(default=timezone.now)
    attempts = models.PositiveSmallIntegerField(default=0)
    attempted_at = models.DateTimeField(null=True, blank=True)
    done_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [
            # the sweep's scan: only what waits
            models.Index(
                fields=["created_at"],
                condition=models.Q(state="pending"),
                name="accounts_mail_pending_idx",
            ),
            # pruning what is done
            models.Index(
                fields=["done_at"],
                condition=~models.Q(state="pending"),
                name="accounts_mail_done_idx",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.kind} mail #{self.pk} ({self.state})"
