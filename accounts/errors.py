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
