"""The staff pages' stable error codes (shown on the page as `data-error-code`); the
verification decisions' own codes are marketplace's."""

from django.utils.translation import gettext_lazy as _

from config.errors import DomainError, InvalidInput


class InvalidStatusFilter(DomainError):
    code = "invalid_status"
    message = _("Filter by pending, verified or rejected.")


class InvalidPage(DomainError):
    code = "invalid_page"
    message = _("The page is a whole number from 1.")


class SearchTooLong(DomainError):
    code = "search_too_long"
    message = _("Search for at most 100 characters.")


class InvalidAction(DomainError):
    code = "invalid_action"
    message = _("Choose approve, reject or revoke, as offered for the lawyer's status.")


class ReasonTooLong(InvalidInput):
    code = "reason_too_long"
    message = _("The reason is too long (500 characters at most).")


class ConfirmationRequired(InvalidInput):
    code = "confirmation_required"
    message = _("Tick the box to confirm that the lawyer stops receiving consultations now.")
