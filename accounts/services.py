from __future__ import annotations

import hashlib
import logging
import re
import secrets
from datetime import datetime
from functools import lru_cache

from django.conf import settings
from django.contrib.auth import authenticate
from django.contrib.auth.password_validation import validate_password
from django.contrib.auth.tokens import default_token_generator
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import IntegrityError, connection, transaction
from django.http import HttpRequest
from django.utils import timezone
from django.utils.crypto import salted_hmac
from django.utils.http import urlsafe_base64_decode

from accounts import errors
from accounts.models import DELETED_USERNAME_PREFIX, AccountMail, ApiToken, User
from accounts.outbox import account_mail_queue
from accounts.realtime import sockets_reconnect_on_commit
from accounts.throttling import (
    login_clear_failures,
    login_clear_failures_of_user,
    login_is_locked,
    login_record_failure,
)
from config import prepared_sql
from config.errors import FieldProblems, RateLimited
from config.rate_limits import rate_limit_check
from config.sentences import sentences_join

USERNAME_RE = re.compile(r"^[\w.\-]{3,30}$")
PHONE_RE = re.compile(r"^1[3-9]\d{9}$")
SELF_SERVICE_ROLES = {User.Role.ASKER, User.Role.LAWYER}
EMAIL_MAX_LENGTH = 254
MailKind = AccountMail.Kind

logger = logging.getLogger(__name__)


def user_register(
    *,
    username: str,
    password: str,
    role: str,
    phone: str = "",
    email: str = "",
    language: str = settings.LANGUAGE_CODE,
) -> User:
    """A new account; an e-mail given waits for confirmation (a link is mailed to it)."""
    username = (username or "").strip()
    problems = FieldProblems()
    if not USERNAME_RE.match(username):
        problems.add(errors.InvalidUsername(fields={"username": errors.InvalidUsername.message}))
    elif User.objects.filter(username__iexact=username).exists():
        problems.add(errors.UsernameTaken(fields={"username": errors.UsernameTaken.message}))
    if role not in SELF_SERVICE_ROLES:
        problems.add(errors.InvalidRole(fields={"role": errors.InvalidRole.message}))
    phone = problems.check(lambda: phone_clean(phone)) or ""
    email = problems.check(lambda: email_clean(email)) or ""
    if email and _email_in_use(email):
        problems.add(errors.EmailTaken(fields={"email": errors.EmailTaken.message}))
    candidate = User(
        username=username,
        role=role,
        phone=phone,
        email_pending=email,
        email_pending_at=timezone.now() if email else None,
    )
    try:
        validate_password(password or "", user=candidate)
    except ValidationError as exc:
        message = sentences_join(exc.messages)
        problems.add(errors.WeakPassword(message, fields={"password": message}))
    problems.raise_any()
    candidate.set_password(password)
    try:
        with transaction.atomic():
            candidate.save()
            if email:
                account_mail_queue(user=candidate, kind=MailKind.EMAIL_CONFIRM, language=language)
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


def email_clean(raw: str | None) -> str:
    """An e-mail address as stored: trimmed, its domain lower-cased, "" for none; InvalidEmail
    unless it is an address. The one check for registration and the account page."""
    email = (raw or "").strip()
    if not email:
        return ""
    try:
        validate_email(email)
    except ValidationError as exc:
        raise errors.InvalidEmail(fields={"email": errors.InvalidEmail.message}) from exc
    if len(email) > EMAIL_MAX_LENGTH:
        raise errors.InvalidEmail(fields={"email": errors.InvalidEmail.message})
    return User.objects.normalize_email(email)


def _email_in_use(email: str, *, besides: User | None = None) -> bool:
    """One account per confirmed address, whatever its case: a reset link goes to exactly one
    account. Pending claims do not count: typing an address never takes it from its owner."""
    others = User.objects.filter(email__iexact=email)
    if besides is not None:
        others = others.exclude(pk=besides.pk)
    return others.exists()


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
    """A new token for a user just signed in with their password. BadCredentials if that
    password has changed since (a change or reset committed in between): the change revokes
    every token in its transaction, and one made from the old password must not outlive it."""
    raw = "ll_" + secrets.token_urlsafe(32)
    with transaction.atomic():
        # a change holds this row's lock until its tokens are revoked: wait for it, then see it
        current = User.objects.select_for_update(no_key=True).filter(
            pk=user.pk, password=user.password, is_active=True
        )
        if not current.exists():
            raise errors.BadCredentials()
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
    signed_in = token_authenticate_with_id(raw)
    return signed_in[0] if signed_in else None


def token_authenticate_with_id(raw: str) -> tuple[User, int] | None:
    """The user a raw token signs in, and the token's id (which a password change through the
    API keeps: user_password_change)."""
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
    return User.from_db(connection.alias, attnames, values), token_id


def token_revoke(*, user: User, token_id: int) -> None:
    revoked = ApiToken.objects.filter(pk=token_id, user=user, revoked_at__isnull=True).update(
        revoked_at=timezone.now()
    )
    if revoked:  # a socket opened with the token must not outlive it
        sockets_reconnect_on_commit([user.pk])


def _tokens_revoke_all(*, user: User, now: datetime, keep_token_id: int | None = None) -> int:
    """Revoke every token of the user that still signs in, but `keep_token_id`; how many were.
    The caller closes the user's sockets (sockets_reconnect_on_commit): one opened with a
    revoked token is then refused when it reconnects."""
    tokens = ApiToken.objects.filter(user=user, revoked_at__isnull=True)
    if keep_token_id is not None:
        tokens = tokens.exclude(pk=keep_token_id)
    return tokens.update(revoked_at=now)


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
    *,
    user: User,
    current_password: str,
    new_password: str,
    address: str,
    language: str = settings.LANGUAGE_CODE,
    keep_token_id: int | None = None,
) -> int:
    """Set a new password; returns how many API tokens were revoked.

    Every session signed in with the old password ends at its next request (Django checks a
    session's password hash), every API token is revoked but `keep_token_id` (the token an API
    client made this very request with, so that it is not locked out halfway; a page passes
    none), and every open socket is told to reconnect, which such a session or token cannot; the
    caller keeps its own session with update_session_auth_hash. A short security mail tells the
    confirmed address (accounts.outbox)."""
    _password_confirm(
        user=user, password=current_password, address=address, field="current_password"
    )
    try:
        validate_password(new_password or "", user=user)
    except ValidationError as exc:
        message = sentences_join(exc.messages)
        raise errors.WeakPassword(message, fields={"new_password": message}) from exc
    now = timezone.now()
    with transaction.atomic():
        user.set_password(new_password)
        user.password_changed_at = now
        user.save(update_fields=["password", "password_changed_at"])
        revoked = _tokens_revoke_all(user=user, now=now, keep_token_id=keep_token_id)
        sockets_reconnect_on_commit([user.pk])
        _password_changed_mail_queue(user, language=language, tokens_revoked=revoked)
    return revoked


def _password_changed_mail_queue(user: User, *, language: str, tokens_revoked: int) -> None:
    """The security notice after a password change or reset, to the confirmed address only; it
    says how many API tokens went (the count waits in the outbox row)."""
    if user.email:
        account_mail_queue(
            user=user,
            kind=MailKind.PASSWORD_CHANGED,
            language=language,
            tokens_revoked=tokens_revoked,
        )


def user_delete(*, user: User, password: str, confirmed: bool, address: str) -> None:
    """Close the account for good, keeping the records others rely on.

    The row stays (consults, payments, refunds, ratings and messages point at it and are
    financial or shared records), deactivated and stripped of everything that identifies the
    person: username replaced by a placeholder, names, phone and e-mail emptied, password
    unusable, every API token revoked. Every session ends with the password hash, and every
    open socket is closed (its reconnect is refused). Their public questions turn anonymous; a
    lawyer's published answers stay under "Former user" as they were published (an edit still
    waiting for review is dropped), and an inactive lawyer is never matched nor listed.

    Refused while the user has a consultation that is not finished (as asker or lawyer), or, for
    a lawyer, offers still waiting for an answer; staff accounts are closed by an administrator.
    A consult or offer created in the instant between this check and the commit is not seen:
    its other side then finds the account inactive (matching skips inactive lawyers)."""
    from marketplace import presence
    from marketplace.models import Consult, LawyerProfile, Offer, Question
    from marketplace.socket_frames import OPEN_STATES
    from qa.models import Answer, AnswerRevision
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
        _tokens_revoke_all(user=locked, now=now)
        # mails not sent yet go nowhere now; an address waiting in one goes with them
        AccountMail.objects.filter(user=locked, state=AccountMail.State.PENDING).update(
            state=AccountMail.State.DROPPED, address="", done_at=now
        )
        # their answers stay as published: an edit still waiting would change them after they
        # left, with nobody to answer for it
        AnswerRevision.objects.filter(
            answer__lawyer=locked, status=AnswerRevision.Status.PENDING
        ).update(status=AnswerRevision.Status.CANCELED, decided_at=now)
        # the licence number stays with staff (who answered, under which licence); the words
        # the lawyer wrote about themselves go
        LawyerProfile.objects.filter(user=locked).update(firm="", bio="")
        locked.username = f"{DELETED_USERNAME_PREFIX}{locked.pk}"
        locked.first_name = locked.last_name = locked.phone = locked.email = ""
        locked.email_pending, locked.email_pending_at = "", None
        locked.set_unusable_password()
        locked.is_active = False
        sockets_reconnect_on_commit([locked.pk])
        if locked.role == User.Role.LAWYER:
            # out of "lawyers online" now, not when the sockets' close or the reaper gets to it
            presence.remove_on_commit(locked.pk)
        locked.save(
            update_fields=[
                "username",
                "first_name",
                "last_name",
                "phone",
                "email",
                "email_pending",
                "email_pending_at",
                "password",
                "is_active",
            ]
        )
    user.refresh_from_db()


def user_email_change(
    *, user: User, email: str, password: str, address: str, language: str = settings.LANGUAGE_CODE
) -> User:
    """Ask to change the address password reset links go to; with "", remove it at once.

    The password is asked again: with only a stolen session, changing the address and then
    resetting the password would take the account over. A new address is only pending: a link
    is mailed to it (accounts.tasks) and the confirmed address, if any, stays in use until the
    link is opened (email_confirm). Typing the confirmed address again withdraws a pending
    claim. EmailTaken when another account has confirmed the address (in any case); pending
    claims of others never block it. EmailConfirmLimited past EMAIL_CONFIRM_MAILS_PER_HOUR.
    Removing a confirmed address tells it by a security mail, in `language` (as a replaced one
    is told in email_confirm): with a stolen session and the password, removing it would
    otherwise silence every later notice unseen. The address waits for that mail in its outbox
    row (accounts.outbox), not in the task's arguments."""
    _password_confirm(user=user, password=password, address=address, field="password")
    cleaned = email_clean(email)
    if not cleaned or cleaned.lower() == user.email.lower():
        removed = user.email if not cleaned else ""
        user.email = cleaned
        user.email_pending, user.email_pending_at = "", None
        with transaction.atomic():
            user.save(update_fields=["email", "email_pending", "email_pending_at"])
            if removed:
                account_mail_queue(
                    user=user, kind=MailKind.EMAIL_REMOVED, language=language, address=removed
                )
        if removed:
            logger.info("e-mail address of user %s removed", user.pk)
        return user
    if _email_in_use(cleaned, besides=user):
        raise errors.EmailTaken(fields={"email": errors.EmailTaken.message})
    _email_confirm_mail_limit(user)
    user.email_pending, user.email_pending_at = cleaned, timezone.now()
    with transaction.atomic():
        user.save(update_fields=["email_pending", "email_pending_at"])
        account_mail_queue(user=user, kind=MailKind.EMAIL_CONFIRM, language=language)
    return user


def email_confirm_resend(*, user: User, language: str = settings.LANGUAGE_CODE) -> None:
    """Mail the confirmation link again (a new token for the same claim: earlier links keep
    working). NoPendingEmail when nothing waits; EmailConfirmLimited past the hourly cap."""
    if not user.email_pending:
        raise errors.NoPendingEmail()
    _email_confirm_mail_limit(user)
    account_mail_queue(user=user, kind=MailKind.EMAIL_CONFIRM, language=language)


def email_confirm(*, token: str, language: str = settings.LANGUAGE_CODE) -> User:
    """Make the pending address the account's confirmed one, through the link mailed to it.
    EmailLinkExpired after EMAIL_CONFIRM_TIMEOUT; EmailLinkInvalid if the link was used, made
    for an earlier claim, or not made by us; EmailTaken if another account confirmed the
    address first (the claim stays pending, to be changed). Reset links made for the previous
    address stop working (Django's reset token covers the address), and a security mail, in
    `language`, tells the previous address which one replaced it: whoever took a session and
    the password could otherwise move the account's mail away unseen. The previous address
    waits for that mail in its outbox row (accounts.outbox), not in the task's arguments."""
    from accounts.email_confirmation import (
        email_confirm_token_matches,
        email_confirm_token_user_id,
    )

    user_id = email_confirm_token_user_id(token)
    with transaction.atomic():
        # two tabs opening one link: the second finds nothing pending and the link used
        user = User.objects.select_for_update().filter(pk=user_id, is_active=True).first()
        if user is None or not email_confirm_token_matches(user, token):
            raise errors.EmailLinkInvalid()
        if _email_in_use(user.email_pending, besides=user):
            raise errors.EmailTaken()
        previous = user.email
        user.email = user.email_pending
        user.email_pending, user.email_pending_at = "", None
        try:
            with transaction.atomic():
                user.save(update_fields=["email", "email_pending", "email_pending_at"])
        except IntegrityError as exc:  # another account confirmed it in the meantime
            raise errors.EmailTaken() from exc
        if previous:
            account_mail_queue(
                user=user, kind=MailKind.EMAIL_CHANGED, language=language, address=previous
            )
    logger.info("e-mail address of user %s confirmed", user.pk)
    return user


def email_confirm_check(*, token: str) -> str:
    """What email_confirm would refuse, without confirming: for the page the link opens, which
    shows the pending address (the link's reader holds that mailbox)."""
    from accounts.email_confirmation import (
        email_confirm_token_matches,
        email_confirm_token_user_id,
    )

    user = User.objects.filter(pk=email_confirm_token_user_id(token), is_active=True).first()
    if user is None or not email_confirm_token_matches(user, token):
        raise errors.EmailLinkInvalid()
    return user.email_pending


def _email_confirm_mail_limit(user: User) -> None:
    try:
        rate_limit_check(
            bucket="email-confirm",
            identity=user.pk,
            limit=settings.EMAIL_CONFIRM_MAILS_PER_HOUR,
            window_seconds=3600,
        )
    except RateLimited as exc:
        raise errors.EmailConfirmLimited() from exc


# --- forgotten passwords: a link by e-mail (accounts.reset_mail, accounts.tasks) -------------
def _reset_limit(*, bucket: str, identity: object) -> None:
    try:
        rate_limit_check(
            bucket=bucket,
            identity=identity,
            limit=settings.PASSWORD_RESET_RATE_LIMIT,
            window_seconds=3600,
        )
    except RateLimited as exc:
        raise errors.ResetRequestsLimited() from exc


def _reset_target(login: str) -> User | None:
    """The account a reset asked for by username or e-mail (usernames never hold "@"), if it
    can get a link: active, with an address, and a password (not one set unusable)."""
    lookup = "email__iexact" if "@" in login else "username__iexact"
    user = User.objects.filter(is_active=True, **{lookup: login}).exclude(email="").first()
    if user is None or not user.has_usable_password():
        return None
    return user


def password_reset_request(*, login: str, address: str, language: str) -> None:
    """Mail a reset link to the account named by `login` (username or e-mail), if there is one
    that can get it. The caller answers the same whatever happened: nothing here tells whether
    an account exists, and the mail goes by a task after commit, so a request costs about the
    same time either way.

    Rate limits that answer 429 count what the requester controls (their address, the login
    typed), for accounts that exist and accounts that do not alike. The cap per account is
    silent: past it requests send nothing but are answered as usual, since a 429 there would
    say the account exists."""
    login = (login or "").strip()[:254]
    _reset_limit(bucket="reset-address", identity=address)
    _reset_limit(
        bucket="reset-login", identity=salted_hmac("reset-login", login.lower()).hexdigest()[:16]
    )
    user = _reset_target(login) if login else None
    if user is None:
        return
    try:
        rate_limit_check(
            bucket="reset-account",
            identity=user.pk,
            limit=settings.PASSWORD_RESET_MAILS_PER_ACCOUNT,
            window_seconds=3600,
        )
    except RateLimited:
        logger.info("password reset mail for user %s not sent: hourly cap reached", user.pk)
        return
    account_mail_queue(user=user, kind=MailKind.PASSWORD_RESET, language=language)


def password_reset_link_user(*, uidb64: str, token: str) -> User:
    """The account a reset link is for; ResetLinkInvalid if it expired (older than
    PASSWORD_RESET_TIMEOUT), was used (the password, or the e-mail, changed since), or is not
    a link we made."""
    try:
        pk = int(urlsafe_base64_decode(uidb64).decode())
    except (ValueError, TypeError, OverflowError, UnicodeDecodeError):
        raise errors.ResetLinkInvalid() from None
    user = User.objects.filter(pk=pk, is_active=True).first()
    if user is None or not default_token_generator.check_token(user, token):
        raise errors.ResetLinkInvalid()
    return user


def password_reset_confirm(
    *, uidb64: str, token: str, new_password: str, language: str = settings.LANGUAGE_CODE
) -> int:
    """Set a new password through a reset link, and tell the address by a security mail;
    returns how many API tokens were revoked. Every session ends (their password hash no longer
    matches; the caller's own too), every API token is revoked (whoever asks for a reset may
    have lost control of the account, and a token made by someone else would outlive the new
    password), every open socket is told to reconnect, and the sign-in lockouts on the account
    are lifted: they counted guesses at a password that is gone, and the owner has just proved
    they read the account's mail."""
    user = password_reset_link_user(uidb64=uidb64, token=token)
    try:
        validate_password(new_password or "", user=user)
    except ValidationError as exc:
        message = " ".join(exc.messages)
        raise errors.WeakPassword(message, fields={"new_password": message}) from exc
    with transaction.atomic():
        # two tabs posting one link: the second finds the password changed and the link used
        locked = User.objects.select_for_update().get(pk=user.pk)
        if not default_token_generator.check_token(locked, token):
            raise errors.ResetLinkInvalid()
        now = timezone.now()
        locked.set_password(new_password)
        locked.password_changed_at = now
        locked.save(update_fields=["password", "password_changed_at"])
        revoked = _tokens_revoke_all(user=locked, now=now)
        sockets_reconnect_on_commit([locked.pk])
        _password_changed_mail_queue(locked, language=language, tokens_revoked=revoked)
        username = locked.username
        transaction.on_commit(lambda: login_clear_failures_of_user(username=username))
    return revoked
