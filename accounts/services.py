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
from accounts.models import ApiToken, User
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
    phone = (phone or "").replace(" ", "").replace("-", "")
    candidate = User(username=username, role=role, phone=phone, email=email)
    problems = FieldProblems()
    if not USERNAME_RE.match(username):
        problems.add(errors.InvalidUsername(fields={"username": errors.InvalidUsername.message}))
    elif User.objects.filter(username__iexact=username).exists():
        problems.add(errors.UsernameTaken(fields={"username": errors.UsernameTaken.message}))
    if role not in SELF_SERVICE_ROLES:
        problems.add(errors.InvalidRole(fields={"role": errors.InvalidRole.message}))
    if phone and not PHONE_RE.match(phone):
        problems.add(errors.InvalidPhone(fields={"phone": errors.InvalidPhone.message}))
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
    ApiToken.objects.filter(pk=token_id, user=user, revoked_at__isnull=True).update(
        revoked_at=timezone.now()
    )
