"""The password reset mail: a link with Django's token, in the requester's language, as plain
text and HTML. Only accounts.tasks calls it; the token is made here, in the worker, so it never
travels through the broker."""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth.tokens import default_token_generator
from django.core.mail import EmailMultiAlternatives
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import translation
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode

from accounts.models import User


def password_reset_link(user: User) -> str:
    uidb64 = urlsafe_base64_encode(force_bytes(user.pk))
    token = default_token_generator.make_token(user)
    path = reverse("accounts:password_reset_link", kwargs={"uidb64": uidb64, "token": token})
    return settings.PUBLIC_BASE_URL.rstrip("/") + path


def password_reset_mail_send(*, user: User, language: str) -> None:
    """Precondition: the user has an e-mail address. Raises what the mail backend raises
    (OSError, smtplib's errors) for the task to retry."""
    if language not in dict(settings.LANGUAGES):
        language = settings.LANGUAGE_CODE
    with translation.override(language):
        context = {
            "user": user,
            "link": password_reset_link(user),
            "minutes": settings.PASSWORD_RESET_TIMEOUT // 60,
            "again": settings.PUBLIC_BASE_URL.rstrip("/") + reverse("accounts:password_reset"),
            "LANGUAGE_CODE": language,
        }
        subject = render_to_string("accounts/mail/password_reset_subject.txt", context)
        text = render_to_string("accounts/mail/password_reset.txt", context)
        html = render_to_string("accounts/mail/password_reset.html", context)
    message = EmailMultiAlternatives(subject=" ".join(subject.split()), body=text, to=[user.email])
    message.attach_alternative(html, "text/html")
    message.send()
