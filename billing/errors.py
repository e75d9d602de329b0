from django.utils.translation import gettext_lazy as _

from config.errors import Conflict, DomainError, InvalidInput


class PriceChanged(Conflict):
    code = "price_changed"
    message = _("The lawyer's price has changed. Check the new price and try again.")


class InvalidPrice(InvalidInput):
    code = "invalid_price"
    message = _("The price is not valid.")


class InvalidCurrency(InvalidInput):
    code = "invalid_currency"
    message = _("This currency is not supported.")


class SandboxDisabled(Conflict):
    code = "sandbox_disabled"
    message = _(
        "Card payments go through Stripe on this server; the sandbox payment button is off."
    )


class PaymentNotPayable(Conflict):
    code = "payment_not_payable"
    message = _("This payment is no longer waiting to be paid.")


class PaymentNotRefundable(Conflict):
    code = "payment_not_refundable"
    message = _("Only a captured payment can be refunded.")


class GatewayUnavailable(DomainError):
    code = "gateway_unavailable"
    status = 503
    message = _("The payment provider did not answer. Please try again in a moment.")


class GatewayRefused(Conflict):
    code = "gateway_refused"
    message = _("The payment provider refused the operation.")


class ConsultNotClosed(Conflict):
    code = "consult_not_closed"
    message = _("A consultation can be rated once it is closed.")


class AlreadyRated(Conflict):
    code = "already_rated"
    message = _("This consultation has already been rated.")


class InvalidRating(InvalidInput):
    code = "invalid_rating"
    message = _("A rating is a whole number from 1 to 5.")
