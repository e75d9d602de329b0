"""The token of an e-mail confirmation link: signed with the secret key and timestamped
(django.core.signing), holding the user id and a digest of the pending address and the moment
it was set. A link therefore confirms only the claim it was mailed for: once used (the pending
address is gone), or after a newer claim (another address, or the same one set again), its
digest no longer matches. No address is in the token itself."""

from __future__ import annotations

from django.conf import settings
from django.core import signing
from django.utils.crypto import constant_time_compare, salted_hmac

from accounts import errors
from accounts.models import User

SALT = "accounts.email-confirm"


def _pending_digest(user: User) -> str:
    at = user.email_pending_at.isoformat() if user.email_pending_at else ""
    value = f"{user.pk}:{user.email_pending.lower()}:{at}"
    return salted_hmac(SALT, value).hexdigest()[:32]


def email_confirm_token_make(user: User) -> str:
    """Precondition: the user has a pending address."""
    return signing.dumps({"u": user.pk, "d": _pending_digest(user)}, salt=SALT)


def email_confirm_token_user_id(token: str) -> int:
    """The user a token names, if we made it within EMAIL_CONFIRM_TIMEOUT; EmailLinkExpired or
    EmailLinkInvalid otherwise. Whether it still matches the pending claim is
    email_confirm_token_matches's to tell."""
    try:
        data = signing.loads(token or "", salt=SALT, max_age=settings.EMAIL_CONFIRM_TIMEOUT)
    except signing.SignatureExpired:
        raise errors.EmailLinkExpired() from None
    except signing.BadSignature:
        raise errors.EmailLinkInvalid() from None
    if not isinstance(data, dict) or not isinstance(data.get("u"), int):
        raise errors.EmailLinkInvalid()
    return data["u"]


def email_confirm_token_matches(user: User, token: str) -> bool:
    """Precondition: the token's signature was checked (email_confirm_token_user_id)."""
    if not user.email_pending:
        return False
    data = signing.loads(token, salt=SALT)
    return constant_time_compare(str(data.get("d", "")), _pending_digest(user))
