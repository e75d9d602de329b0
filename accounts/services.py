from __future__ import annotations

import hashlib
import re
import secrets
from functools import lru_cache

from django.conf import settings
from django.contrib.auth import authenticate
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, transaction
from django.http import HttpRequest
from django.utils import timezone

from accounts import errors
from accounts.models import DELETED_USERNAME_PREFIX, ApiToken, User
from accounts.realtime import sockets_reconnect_on_commit
from accounts.throttling import login_clear_failures, login_is_locked, login_record_failure
from config import prepared_sql
from config.errors import FieldProblems
from config.rate_limits import rate_limit_check

USERNAME_RE = re.compile(r"^[\w.\-]{3,30}$")
PHONE_RE = re.compile(r"^1[3-9]\d{9}$")
SELF_SERVICE_ROLES = {User.Role.ASKER, User.Role.LAWYER}


def user_register(
    *, username: str, password: str, role: str, phone: str = "", email: str = ""
) -> User:
    username = (username or "").strip()
    problems = FieldProblems()
    if not USERNAME_RE.match(username):
        problems.add(errors.InvalidUsername(fields={"username": errors.InvalidUsername.message}))
    elif User.objects.filter(username__iexact=username).exists():
        problems.add(errors.UsernameTaken(fields={"username": errors.UsernameTaken.message}))
    if role not in SELF_SERVICE_ROLES:
        problems.add(errors.InvalidRole(fields={"role": errors.InvalidRole.message}))
    phone = problems.check(lambda: phone_clean(phone)) or ""
    candidate = User(username=username, role=role, phone=phone, email=email)
    try:
        validate_password(password or "", user=candidate)
    except ValidationError as exc:
        message = " ".join(exc.messages)
        problems.add(errors.WeakPassword(message, fields={"password": message}))
    problems.raise_any()
    candidate.set_password(password)
    try:
        with transaction.atomic():
            candidate.save()
    except IntegrityError as exc:  # two registrations racing for one name
        raise errors.UsernameTaken(fields={"username": errors.UsernameTaken.message}) from exc
    _send_welcome(candidate)
    return candidate


def phone_clean(raw: str | None) -> str:
    """A mobile number as stored: spaces and dashes dropped, "" for none; InvalidPhone unless it
    is a mainland mobile number. The one check for registration and the account page."""
    phone = (raw or "").replace(" ", "").replace("-", "")
    if phone and not PHONE_RE.match(phone):
        raise errors.InvalidPhone(fields={"phone": errors.InvalidPhone.message})
    return phone


def _send_welcome(user: User) -> None:
    """The new user's first notice (an asker's or a lawyer's), by a task after commit."""
    from messaging.notices import welcome_kind
    from messaging.tasks import notice_send_task

    notice_send_task.delay_on_commit(user.pk, welcome_kind(user))


def registration_throttle(*, address: str) -> None:
    rate_limit_check(
        bucket="register", identity=address, limit=settings.REGISTER_RATE_LIMIT, window_seconds=3600
    )


def user_check_credentials(
    *, username: str, password: str, address: str, request: HttpRequest | None = None
) -> User:
    """Authenticate with lockout: raises LoginLocked or BadCredentials."""
    if login_is_locked(username=username, address=address):
        raise errors.LoginLocked()
    user = authenticate(request, username=username, password=password)
    if user is None:
        login_record_failure(username=username, address=address)
        if login_is_locked(username=username, address=address):
            raise errors.LoginLocked()
        raise errors.BadCredentials()
    login_clear_failures(username=username, address=address)
    return user  # type: ignore[return-value]


def hash_token(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


def token_issue(*, user: User, name: str = "") -> tuple[ApiToken, str]:
    raw = "ll_" + secrets.token_urlsafe(32)
    token = ApiToken.objects.create(
        user=user, key_hash=hash_token(raw), prefix=raw[3:11], name=name[:100]
    )
    return token, raw


@lru_cache(maxsize=1)
def _token_user_sql() -> tuple[str, tuple[str, ...]]:
    """The token → user lookup as one fixed statement (the user's columns in model order).
    Every API request and socket handshake with a bearer token runs it, and building it with
    the ORM (a join, compiled per call) cost more CPU than the rest of a small request."""
    quote = connection.ops.quote_name
    fields = User._meta.concrete_fields
    columns = ", ".join(f"u.{quote(str(field.column))}" for field in fields)
    sql = (
        f"SELECT t.id, t.last_used_at, {columns}"  # noqa: S608 - names from the models
        f" FROM {quote(ApiToken._meta.db_table)} t"
        f" JOIN {quote(User._meta.db_table)} u ON u.id = t.user_id"
        " WHERE t.key_hash = %s AND t.revoked_at IS NULL AND u.is_active"
    )
    return sql, tuple(field.attname for field in fields)


def token_authenticate(raw: str) -> User | None:
    if not raw or len(raw) > 200:
        return None
    sql, attnames = _token_user_sql()
    rows = prepared_sql.fetch_all(sql, [hash_token(raw)], logged=True)
    if not rows:
        return None
    token_id, last_used_at, *values = rows[0]
    now = timezone.now()
    if last_used_at is None or (now - last_used_at).total_seconds() > 60:
        table = connection.ops.quote_name(ApiToken._meta.db_table)
        with connection.cursor() as cursor:
            sql = f"UPDATE {table} SET last_used_at = %s WHERE id = %s"  # noqa: S608
            cursor.execute(sql, [now, token_id])
    return User.from_db(connection.alias, attnames, values)


def token_revoke(*, user: User, token_id: int) -> None:
    revoked = ApiToken.objects.filter(pk=token_id, user=user, revoked_at__isnull=True).update(
        revoked_at=timezone.now()
    )
    if revoked:  # a socket opened with the token must not outlive it
        sockets_reconnect_on_commit([user.pk])


# --- the account page: a signed-in user's own profile, password, tokens and deletion ----------
NAME_MAX_LENGTH = 150


def user_profile_update(
    *,
    user: User,
    first_name: str | None = None,
    last_name: str | None = None,
    phone: str | None = None,
) -> User:
    """Change the names and mobile number given (None leaves one as it is); every wrong field is
    told at once."""
    problems = FieldProblems()
    changes: dict[str, str] = {}
    for field, value in (("first_name", first_name), ("last_name", last_name)):
        if value is None:
            continue
        value = value.strip()
        if len(value) > NAME_MAX_LENGTH:
            problems.add(errors.InvalidName(fields={field: errors.InvalidName.message}))
        changes[field] = value
    if phone is not None:
        cleaned = problems.check(lambda: phone_clean(phone))
        if cleaned is not None:
            changes["phone"] = cleaned
    problems.raise_any()
    for field, value in changes.items():
        setattr(user, field, value)
    if changes:
        user.save(update_fields=list(changes))
    return user


def _password_confirm(*, user: User, password: str, address: str, field: str) -> None:
    """The user's own password, asked again before a change that matters. Wrong guesses count
    towards the same lockout as sign-in (one counter per username and address), so a stolen
    session cannot guess the password here faster than at the sign-in form."""
    if login_is_locked(username=user.username, address=address):
        raise errors.PasswordChecksLocked()
    if not user.check_password(password or ""):
        login_record_failure(username=user.username, address=address)
        if login_is_locked(username=user.username, address=address):
            raise errors.PasswordChecksLocked()
        raise errors.WrongPassword(fields={field: errors.WrongPassword.message})
    login_clear_failures(username=user.username, address=address)


def user_password_change(
    *, user: User, current_password: str, new_password: str, address: str
) -> None:
    """Every session signed in with the old password ends at its next request (Django checks a
    session's password hash), and every open socket is told to reconnect, which such a session
    cannot; the caller keeps its own session with update_session_auth_hash. API tokens stay:
    they are listed on the account page to be revoked one by one."""
    _password_confirm(
        user=user, password=current_password, address=address, field="current_password"
    )
    try:
        validate_password(new_password or "", user=user)
    except ValidationError as exc:
        message = " ".join(exc.messages)
        raise errors.WeakPassword(message, fields={"new_password": message}) from exc
    user.set_password(new_password)
    user.save(update_fields=["password"])
    sockets_reconnect_on_commit([user.pk])


def user_delete(*, user: User, password: str, confirmed: bool, address: str) -> None:
    """Close the account for good, keeping the records others rely on.

    The row stays (consults, payments, refunds, ratings and messages point at it and are
    financial or shared records), deactivated and stripped of everything that identifies the
    person: username replaced by a placeholder, names, phone and e-mail emptied, password
    unusable, every API token revoked. Every session ends with the password hash, and every
    open socket is closed (its reconnect is refused). Their public questions turn anonymous; a
    lawyer's published answers stay under "Former user", and an inactive lawyer is never
    matched nor listed.

    Refused while the user has a consultation that is not finished (as asker or lawyer), or, for
    a lawyer, offers still waiting for an answer; staff accounts are closed by an administrator.
    A consult or offer created in the instant between this check and the commit is not seen:
    its other side then finds the account inactive (matching skips inactive lawyers)."""
    from marketplace.models import Consult, LawyerProfile, Offer, Question
    from marketplace.socket_frames import OPEN_STATES
    from qa.models import Answer
    from qa.page_cache import question_page_forget

    if user.is_staff_member:
        raise errors.StaffCannotSelfDelete()
    if not confirmed:
        raise errors.DeletionNotConfirmed(fields={"confirm": errors.DeletionNotConfirmed.message})
    _password_confirm(user=user, password=password, address=address, field="password")
    now = timezone.now()
    with transaction.atomic():
        locked = User.objects.select_for_update().get(pk=user.pk)
        open_consults = Consult.objects.filter(state__in=OPEN_STATES)
        if (
            open_consults.filter(asker=locked).exists()
            or open_consults.filter(lawyer=locked).exists()
        ):
            raise errors.AccountHasOpenConsult()
        if Offer.objects.filter(
            lawyer=locked, state=Offer.State.PENDING, expires_at__gt=now
        ).exists():
            raise errors.AccountHasLiveOffers()
        asked = list(
            Question.objects.filter(asker=locked, is_anonymous=False).values_list("pk", flat=True)
        )
        Question.objects.filter(pk__in=asked).update(is_anonymous=True)
        answered = Answer.objects.filter(lawyer=locked).values_list("question_id", flat=True)
        question_page_forget(*{*asked, *answered})
        ApiToken.objects.filter(user=locked, revoked_at__isnull=True).update(revoked_at=now)
        # the licence number stays with staff (who answered, under which licence); the words
        # the lawyer wrote about themselves go
        LawyerProfile.objects.filter(user=locked).update(firm="", bio="")
        locked.username = f"{DELETED_USERNAME_PREFIX}{locked.pk}"
        locked.first_name = locked.last_name = locked.phone = locked.email = ""
        locked.set_unusable_password()
        locked.is_active = False
        sockets_reconnect_on_commit([locked.pk])
        locked.save(
            update_fields=[
                "username",
                "first_name",
                "last_name",
                "phone",
                "email",
                "password",
                "is_active",
            ]
        )
    user.refresh_from_db()
