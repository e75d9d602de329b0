"""The password reset mail: a link with Django's token, in the requester's language, as plain
text and HTML. Only accounts.outbox calls it; the token is made here, in the worker, so it never
travels through the broker."""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth.tokens import default_token_generator
from django.urls import reverse
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode

from accounts.account_mail import mail_send, public_url
from accounts.models import AccountMail, User


def password_reset_link(user: User) -> str:
    uidb64 = urlsafe_base64_encode(force_bytes(user.pk))
    token = default_token_generator.make_token(user)
    return public_url(
        reverse("accounts:password_reset_link", kwargs={"uidb64": uidb64, "token": token})
    )


def password_reset_mail_send(*, mail: AccountMail, to: str) -> None:
    """To the user's confirmed address, `to`. Raises what the mail backend raises (OSError,
    smtplib's errors) for the task to retry."""
    user = mail.user
    mail_send(
        template="password_reset",
        to=to,
        language=mail.language,
        context=lambda: {
            "user": user,
            "link": password_reset_link(user),
            "minutes": settings.PASSWORD_RESET_TIMEOUT // 60,
            "again": public_url(reverse("accounts:password_reset")),
        },
    )
