"""The account's mails besides the reset link (accounts.reset_mail): the link that confirms a
new address, the notice that the password changed, and the notices to an address replaced by a
new one or removed. Each is plain text and HTML in the user's language, rendered from
accounts/mail/<name>{_subject.txt,.txt,.html}. Only accounts.outbox calls them; tokens are made
here, in the worker, never sent through the broker."""

from __future__ import annotations

from collections.abc import Callable

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.formats import date_format

from accounts.email_confirmation import email_confirm_token_make
from accounts.models import AccountMail, User
from billing.masking import mask_email


def public_url(path: str) -> str:
    return settings.PUBLIC_BASE_URL.rstrip("/") + path


def mail_send(*, template: str, to: str, language: str, context: Callable[[], dict]) -> None:
    """Render and send one mail. `context` is called inside the language, so what it formats
    (dates, lazy strings) comes out in it. Raises what the mail backend raises."""
    if language not in dict(settings.LANGUAGES):
        language = settings.LANGUAGE_CODE
    with translation.override(language):
        values = {**context(), "LANGUAGE_CODE": language}
        subject = render_to_string(f"accounts/mail/{template}_subject.txt", values)
        text = render_to_string(f"accounts/mail/{template}.txt", values)
        html = render_to_string(f"accounts/mail/{template}.html", values)
    message = EmailMultiAlternatives(subject=" ".join(subject.split()), body=text, to=[to])
    message.attach_alternative(html, "text/html")
    message.send()


def email_confirm_link(user: User) -> str:
    token = email_confirm_token_make(user)
    return public_url(reverse("accounts:email_confirm", kwargs={"token": token}))


def email_confirm_mail_send(*, mail: AccountMail, to: str) -> None:
    """Precondition: the user has a pending address, `to`."""
    user = mail.user
    mail_send(
        template="email_confirm",
        to=to,
        language=mail.language,
        context=lambda: {
            "user": user,
            "link": email_confirm_link(user),
            "hours": settings.EMAIL_CONFIRM_TIMEOUT // 3600,
        },
    )


def password_changed_mail_send(*, mail: AccountMail, to: str) -> None:
    """To the confirmed address, `to`. Says when (in China time), how many API tokens the
    change revoked (when it revoked any), and what to do if it was not them; it holds no link
    that signs in or sets a password."""
    user = mail.user
    changed_at = timezone.localtime(user.password_changed_at or timezone.now())
    mail_send(
        template="password_changed",
        to=to,
        language=mail.language,
        context=lambda: {
            "user": user,
            "when": date_format(changed_at, "Y-m-d H:i"),
            "tokens_revoked": mail.tokens_revoked,
            "reset": public_url(reverse("accounts:password_reset")),
            "support_email": settings.SUPPORT_EMAIL,
        },
    )


def email_changed_mail_send(*, mail: AccountMail, to: str) -> None:
    """To the previous confirmed address, `to`, once a new one is confirmed: which address
    replaced it (masked: this mailbox may no longer be the account owner's) and what to do if it
    was not them. It offers no reset link: reset links now go to the new address. No link that
    signs in."""
    user = mail.user
    mail_send(
        template="email_changed",
        to=to,
        language=mail.language,
        context=lambda: {
            "user": user,
            "new_address": mask_email(user.email),
            "account": public_url(reverse("account")),
            "support_email": settings.SUPPORT_EMAIL,
        },
    )


def email_removed_mail_send(*, mail: AccountMail, to: str) -> None:
    """To the confirmed address the user removed, `to`: the account has no address now, and
    what to do if it was not them. No reset link (it could only go to an address the account
    has) and no link that signs in."""
    mail_send(
        template="email_removed",
        to=to,
        language=mail.language,
        context=lambda: {
            "user": mail.user,
            "account": public_url(reverse("account")),
            "support_email": settings.SUPPORT_EMAIL,
        },
    )
