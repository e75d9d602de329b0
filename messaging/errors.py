"""Messaging's errors. The codes are stable: clients and tests match on them."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from config.errors import Conflict, DomainError, Forbidden, InvalidInput, NotFound, RateLimited


class ConversationNotFound(NotFound):
    """Also for a conversation that exists but the user is not in: they learn nothing of it."""

    code = "not_found"
    message = _("Conversation not found.")


FIELD_MESSAGES = {
    "conversation": _("`conversation` must be a conversation id."),
    "client_id": _("`client_id` must be a string of 1 to 64 characters."),
    "body": _("`body` must be a string."),
    "seq": _("`seq` must be a whole number, 0 or more."),
}


class InvalidField(InvalidInput):
    """A field of a frame is missing or has the wrong type."""

    code = "invalid"
    message = _("A field of the frame is missing or has the wrong type.")

    def __init__(self, field: str):
        message = FIELD_MESSAGES.get(field, self.message)
        super().__init__(message, fields={field: message})
        self.field = field


class MessageEmpty(InvalidInput):
    code = "message_empty"
    message = _("A message cannot be empty.")


class MessageTooLong(InvalidInput):
    code = "message_too_long"
    message = _("A message can be at most 4,000 characters long.")


class MessageRateLimited(RateLimited):
    code = "rate_limited"
    message = _("You are sending messages too fast. Wait a few seconds and try again.")


class ConversationReadOnly(Forbidden):
    code = "conversation_read_only"
    message = _("Nobody can reply in this conversation.")


class ClientIdReused(Conflict):
    code = "client_id_reused"
    message = _("This client_id was already used for a message in another conversation.")


class MessageNotStored(DomainError):
    """The database refused the write: nothing was stored, the client may send it again."""

    code = "message_not_stored"
    status = 503
    message = _("The message could not be saved. Please send it again.")


class InvalidCursors(InvalidInput):
    code = "invalid_cursors"
    message = _("`cursors` must map conversation ids to the last seq you have (0 or more).")


class InvalidNotice(InvalidInput):
    code = "invalid_notice"
    message = _("Unknown platform notice or missing details for it.")
