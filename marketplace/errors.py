"""The marketplace's stable error codes. Tests and clients rely on `code`; never rename one."""

from django.utils.translation import gettext_lazy as _

from config.errors import Conflict, DomainError, InvalidInput, NotFound

# --- questions -------------------------------------------------------------------------------


class TitleRequired(InvalidInput):
    code = "title_required"
    message = _("Give your question a title.")


class TitleTooLong(InvalidInput):
    code = "title_too_long"
    message = _("The title is too long (120 characters at most).")


class BodyRequired(InvalidInput):
    code = "body_required"
    message = _("Describe your situation in the question.")


class BodyTooLong(InvalidInput):
    code = "body_too_long"
    message = _("The question is too long (20,000 characters at most).")


class UnknownRegion(InvalidInput):
    code = "unknown_region"
    message = _("There is no such region.")


class RegionNotCity(InvalidInput):
    code = "region_not_city"
    message = _("Choose a city, not a province or the whole country.")


class UnknownCategory(InvalidInput):
    code = "unknown_category"
    message = _("There is no such practice area.")


class LawyersCannotAsk(DomainError):
    code = "lawyers_cannot_ask"
    status = 403
    message = _("Lawyers answer questions; sign in with a client account to ask one.")


# --- lawyer profiles and verification ----------------------------------------------------------


class InvalidLicenseNumber(InvalidInput):
    code = "invalid_license_number"
    message = _("Enter the 15–18 digit number on your lawyer's practice certificate.")


class InvalidCapacity(InvalidInput):
    code = "invalid_capacity"
    message = _("Capacity is how many consultations you can hold at once: 1 to 20.")


class TooManyRegions(InvalidInput):
    code = "too_many_regions"
    message = _("Serve at most 50 regions.")


class CategoriesRequired(InvalidInput):
    code = "categories_required"
    message = _("Choose at least one practice area.")


class ProfileNotSubmitted(Conflict):
    code = "verification_not_submitted"
    message = _("This lawyer has not submitted a license number for verification yet.")


class ReasonRequired(InvalidInput):
    code = "reason_required"
    message = _("Give the lawyer a reason when rejecting a verification.")


class InvalidExpectedStatus(InvalidInput):
    code = "invalid_expected"
    message = _("The status you saw is pending, verified or rejected.")


class VerificationChanged(Conflict):
    code = "verification_changed"
    message = _("Someone else decided on this lawyer meanwhile; look at the profile again.")


class LawyerNotVerified(DomainError):
    code = "lawyer_not_verified"
    status = 403
    message = _("Your lawyer profile must be verified before you can take consultations.")


class ProfileIncomplete(Conflict):
    code = "profile_incomplete"
    message = _("Set your city in your lawyer profile first.")


# --- consults ----------------------------------------------------------------------------------


class UnknownLawyer(InvalidInput):
    code = "unknown_lawyer"
    message = _("There is no verified lawyer with this id.")


class InvalidConsultPrice(InvalidInput):
    code = "invalid_price"
    message = _("A paid consultation needs a price above zero; a free one has price 0.")


class InvalidConsultCurrency(InvalidInput):
    code = "invalid_currency"
    message = _("The currency is a three-letter ISO code such as CNY.")


class ConsultAlreadyOpen(Conflict):
    code = "consult_already_open"
    message = _("This question already has an open consultation.")


class IllegalTransition(Conflict):
    """A consult asked to move where its state machine does not allow."""

    code = "illegal_transition"
    message = _("The consultation cannot do that in its current state.")


class QuestionClosed(Conflict):
    code = "question_closed"
    message = _("This question is closed; ask a new one.")


# --- offers --------------------------------------------------------------------------------------


class OfferTaken(Conflict):
    code = "offer_taken"
    message = _("Another lawyer has already accepted this consultation.")


class OfferExpired(Conflict):
    code = "offer_expired"
    message = _("This offer has expired.")


class OfferWithdrawn(Conflict):
    code = "offer_withdrawn"
    message = _("This consultation is no longer looking for a lawyer.")


class OfferDeclined(Conflict):
    code = "offer_declined"
    message = _("You have declined this offer.")


class OfferAlreadyAccepted(Conflict):
    code = "offer_accepted"
    message = _("You have already taken this consultation; close it when you are done.")


class OverCapacity(Conflict):
    code = "over_capacity"
    message = _("You are at your capacity of concurrent consultations; finish one first.")


class OfferNotFound(NotFound):
    code = "not_found"


# --- presence ------------------------------------------------------------------------------------


class InvalidPresenceStatus(InvalidInput):
    code = "invalid_status"
    message = _("Presence status is online or away.")


class InvalidOfferRef(InvalidInput):
    code = "invalid_offer"
    message = _("Name the offer by its id.")
