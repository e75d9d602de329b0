from django.utils.translation import gettext_lazy as _

from config.errors import Conflict, DomainError, InvalidInput, RateLimited


class UsernameTaken(Conflict):
    code = "username_taken"
    message = _("This username is already taken.")


class InvalidUsername(InvalidInput):
    code = "invalid_username"
    message = _("Usernames are 3–30 letters, digits or _ . - characters.")


class WeakPassword(InvalidInput):
    code = "weak_password"
    message = _("This password is too weak.")


class InvalidRole(InvalidInput):
    code = "invalid_role"
    message = _("Role must be asker or lawyer.")


class InvalidPhone(InvalidInput):
    code = "invalid_phone"
    message = _("Enter a mainland China mobile number (11 digits starting with 1).")


class BadCredentials(DomainError):
    code = "bad_credentials"
    status = 401
    message = _("Wrong username or password.")


class LoginLocked(RateLimited):
    code = "login_locked"
    message = _("Too many failed sign-ins. Try again in a few minutes.")


class NotAuthenticated(DomainError):
    code = "not_authenticated"
    status = 401
    message = _("Sign in first.")


class WrongRole(DomainError):
    code = "wrong_role"
    status = 403
    message = _("Your account type cannot do that.")


class InvalidName(InvalidInput):
    code = "invalid_name"
    message = _("Names are at most 150 characters.")


class WrongPassword(InvalidInput):
    code = "wrong_password"
    message = _("Your current password is not right.")


class PasswordChecksLocked(RateLimited):
    code = "password_locked"
    message = _("Too many wrong passwords. Try again in a few minutes.")


class DeletionNotConfirmed(InvalidInput):
    code = "deletion_not_confirmed"
    message = _("Tick the box to confirm that you want to delete your account.")


class AccountHasOpenConsult(Conflict):
    code = "open_consult"
    message = _(
        "You have a consultation that is not finished. Close or cancel it before deleting "
        "your account."
    )


class AccountHasLiveOffers(Conflict):
    code = "live_offers"
    message = _(
        "Consultations are being offered to you. Accept or decline them before deleting "
        "your account."
    )


class StaffCannotSelfDelete(DomainError):
    code = "staff_account"
    status = 403
    message = _("Staff accounts are closed by an administrator.")


class InvalidEmail(InvalidInput):
    code = "invalid_email"
    message = _("Enter a valid e-mail address.")


class EmailTaken(Conflict):
    code = "email_taken"
    message = _("Another account already uses this e-mail address.")


class ResetLinkInvalid(DomainError):
    """Expired, already used (the password it would replace has changed), or not a link we
    sent: one answer for all three, as the token cannot tell them apart."""

    code = "reset_link_invalid"
    status = 400
    message = _("This password reset link has expired or was already used. Ask for a new one.")


class ResetRequestsLimited(RateLimited):
    code = "reset_rate_limited"
    message = _("Too many password reset requests. Try again in an hour.")


class EmailLinkExpired(DomainError):
    code = "email_link_expired"
    status = 400
    message = _(
        "This confirmation link has expired. Send a new one from your account page and open it "
        "within a day."
    )


class EmailLinkInvalid(DomainError):
    """Already used, made for an address changed since, or not a link we sent: one answer."""

    code = "email_link_invalid"
    status = 400
    message = _(
        "This confirmation link is no longer valid: it was already used, or a newer address "
        "was set since. Your account page shows the address waiting for confirmation."
    )


class NoPendingEmail(Conflict):
    code = "no_pending_email"
    message = _("No e-mail address is waiting for confirmation.")


class EmailConfirmLimited(RateLimited):
    code = "email_confirm_rate_limited"
    message = _("Too many confirmation mails. Try again in an hour.")
