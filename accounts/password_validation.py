"""Password validators whose messages Lawline translates itself."""

from __future__ import annotations

from django.contrib.auth import password_validation
from django.utils.translation import ngettext


class MinimumLengthValidator(password_validation.MinimumLengthValidator):
    """Django 5.2 rewrote this message's msgid (``%(min_length)d`` became ``%d``) but its
    zh_Hans catalogue still holds the old one, so Chinese pages showed it in English. The
    message is marked here so the accounts catalogue carries its Chinese."""

    def get_error_message(self) -> str:
        return (
            ngettext(
                "This password is too short. It must contain at least %d character.",
                "This password is too short. It must contain at least %d characters.",
                self.min_length,
            )
            % self.min_length
        )
