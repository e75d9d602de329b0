from __future__ import annotations

from django.contrib.auth.models import AbstractUser
from django.db import models
from django.db.models.functions import Lower
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
