from __future__ import annotations

from datetime import datetime
from typing import Literal

from django.contrib.auth import SESSION_KEY, logout, update_session_auth_hash
from django.http import HttpRequest
from django.utils.translation import gettext as _
from ninja import Router, Schema, Status

from accounts import selectors, services
from accounts.api_auth import request_token_id, signed_in
from accounts.models import User
from accounts.request_info import client_address, request_language

router = Router(tags=["auth"])


class RegisterIn(Schema):
    username: str
    password: str
    role: Literal["asker", "lawyer"] = "asker"
    phone: str | None = None
    email: str | None = None


class UserOut(Schema):
    id: int
    username: str
    role: str


class TokenIn(Schema):
    username: str
    password: str
    name: str | None = None


class TokenOut(Schema):
    token: str
    token_id: int
    user: UserOut


class ErrorOut(Schema):
    code: str
    message: str
    fields: dict[str, str] | None = None


@router.post(
    "/register", response={201: UserOut, 409: ErrorOut, 422: ErrorOut, 429: ErrorOut}, auth=None
)
def register(request: HttpRequest, payload: RegisterIn):
    services.registration_throttle(address=client_address(request))
    user = services.user_register(
        username=payload.username,
        password=payload.password,
        role=payload.role,
        phone=payload.phone or "",
        email=payload.email or "",
        language=request_language(),
    )
    return Status(201, user)


@router.post("/token", response={200: TokenOut, 401: ErrorOut, 429: ErrorOut}, auth=None)
def token(request: HttpRequest, payload: TokenIn):
    user = services.user_check_credentials(
        username=payload.username, password=payload.password, address=client_address(request)
    )
    token_row, raw = services.token_issue(user=user, name=payload.name or "")
    return {"token": raw, "token_id": token_row.pk, "user": user}


@router.delete("/token/{token_id}", response={204: None, 401: ErrorOut}, auth=signed_in)
def revoke_token(request: HttpRequest, token_id: int):
    services.token_revoke(user=request.user, token_id=token_id)  # type: ignore[arg-type]
    return Status(204, None)


@router.get("/me", response={200: UserOut, 401: ErrorOut}, auth=signed_in)
def me(request: HttpRequest):
    user: User = request.user  # type: ignore[assignment]
    return user


# --- a forgotten password: a link by e-mail, then a new password through it ------------------
class PasswordResetIn(Schema):
    login: str


class PasswordResetOut(Schema):
    message: str


class PasswordResetConfirmIn(Schema):
    uid: str
    token: str
    new_password: str


@router.post("/password/reset", response={202: PasswordResetOut, 429: ErrorOut}, auth=None)
def password_reset(request: HttpRequest, payload: PasswordResetIn):
    """202 whether or not the account exists (or has an e-mail): the answer never tells. The
    mail is in the language of the request (Accept-Language or the language cookie)."""
    services.password_reset_request(
        login=payload.login,
        address=client_address(request),
        language=request_language(),
    )
    message = _(
        "If an account with that username or e-mail exists and has an e-mail on file, we sent "
        "it a link to set a new password."
    )
    return Status(202, {"message": message})


@router.post(
    "/password/reset/confirm", response={204: None, 400: ErrorOut, 422: ErrorOut}, auth=None
)
def password_reset_confirm(request: HttpRequest, payload: PasswordResetConfirmIn):
    """Every session, API token and socket of the account ends; sign in again with the new
    password."""
    services.password_reset_confirm(
        uidb64=payload.uid,
        token=payload.token,
        new_password=payload.new_password,
        language=request_language(),
    )
    return Status(204, None)


# --- the signed-in user's own account (the same services as the /account/ page) -------------
class AccountOut(Schema):
    id: int
    username: str
    role: str
    first_name: str
    last_name: str
    phone: str
    email: str
    email_pending: str


class AccountIn(Schema):
    first_name: str | None = None
    last_name: str | None = None
    phone: str | None = None


class PasswordChangeIn(Schema):
    current_password: str
    new_password: str


class EmailChangeIn(Schema):
    email: str
    password: str


class EmailConfirmIn(Schema):
    token: str


class AccountDeleteIn(Schema):
    password: str
    confirm: bool = False


class ApiTokenOut(Schema):
    id: int
    prefix: str
    name: str
    created_at: datetime
    last_used_at: datetime | None


def _signed_in_by_session(request: HttpRequest, user: User) -> bool:
    session = getattr(request, "session", None)
    return session is not None and session.get(SESSION_KEY) == str(user.pk)


@router.get("/account", response={200: AccountOut, 401: ErrorOut}, auth=signed_in)
def account(request: HttpRequest):
    return request.user


@router.patch("/account", response={200: AccountOut, 401: ErrorOut, 422: ErrorOut}, auth=signed_in)
def account_update(request: HttpRequest, payload: AccountIn):
    return services.user_profile_update(
        user=request.user,  # type: ignore[arg-type]
        first_name=payload.first_name,
        last_name=payload.last_name,
        phone=payload.phone,
    )


@router.post(
    "/account/email",
    response={200: AccountOut, 401: ErrorOut, 409: ErrorOut, 422: ErrorOut, 429: ErrorOut},
    auth=signed_in,
)
def account_email(request: HttpRequest, payload: EmailChangeIn):
    """Ask for a new e-mail for reset links: it is `email_pending` until confirmed by the link
    mailed to it ("" removes the address at once); the password is asked again."""
    return services.user_email_change(
        user=request.user,  # type: ignore[arg-type]
        email=payload.email,
        password=payload.password,
        address=client_address(request),
        language=request_language(),
    )


@router.post(
    "/account/email/resend",
    response={202: None, 401: ErrorOut, 409: ErrorOut, 429: ErrorOut},
    auth=signed_in,
)
def account_email_resend(request: HttpRequest):
    """Mail the confirmation link of the pending address again."""
    services.email_confirm_resend(user=request.user, language=request_language())  # type: ignore[arg-type]
    return Status(202, None)


@router.post(
    "/account/email/confirm",
    response={204: None, 400: ErrorOut, 409: ErrorOut, 422: ErrorOut},
    auth=None,
)
def account_email_confirm(request: HttpRequest, payload: EmailConfirmIn):
    """Confirm the pending address with the token of the mailed link (its last path segment).
    No sign-in needed, as the link proves the mailbox; so nothing of the account is answered.
    The previous address, if any, is told by a mail in the language of the request."""
    services.email_confirm(token=payload.token, language=request_language())
    return Status(204, None)


@router.post(
    "/password", response={204: None, 401: ErrorOut, 422: ErrorOut, 429: ErrorOut}, auth=signed_in
)
def password_change(request: HttpRequest, payload: PasswordChangeIn):
    """Every API token is revoked but the one this request was made with (none with a session)."""
    user: User = request.user  # type: ignore[assignment]
    services.user_password_change(
        user=user,
        current_password=payload.current_password,
        new_password=payload.new_password,
        address=client_address(request),
        language=request_language(),
        keep_token_id=request_token_id(request),
    )
    if _signed_in_by_session(request, user):
        update_session_auth_hash(request, user)
    return Status(204, None)


@router.get("/tokens", response={200: list[ApiTokenOut], 401: ErrorOut}, auth=signed_in)
def tokens(request: HttpRequest):
    return selectors.api_tokens_active(user=request.user)  # type: ignore[arg-type]


@router.post(
    "/account/delete",
    response={204: None, 401: ErrorOut, 403: ErrorOut, 409: ErrorOut, 422: ErrorOut, 429: ErrorOut},
    auth=signed_in,
)
def account_delete(request: HttpRequest, payload: AccountDeleteIn):
    user: User = request.user  # type: ignore[assignment]
    by_session = _signed_in_by_session(request, user)
    services.user_delete(
        user=user,
        password=payload.password,
        confirmed=payload.confirm,
        address=client_address(request),
    )
    if by_session:
        logout(request)
    return Status(204, None)
