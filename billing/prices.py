"""Consult prices: what a lawyer may charge, what a consult is quoted at creation and the
platform's fee. Integer minor units throughout. (Offering a consult only to lawyers priced at or
below it, and a free one only to free lawyers, is marketplace.matching's candidate filter.)"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from django.conf import settings

from billing.errors import InvalidCurrency, InvalidPrice, PriceChanged

CURRENCY_RE = re.compile(r"^[A-Z]{3}$")
BASIS_POINTS = 10_000


@dataclass(frozen=True)
class Quote:
    price: int
    currency: str
    platform_fee_bp: int

    @property
    def is_free(self) -> bool:
        return self.price == 0


def supported_currencies() -> list[str]:
    return [c.upper() for c in settings.BILLING_CURRENCIES]


def clean_currency(currency: str | None) -> str:
    """An ISO 4217 code this platform takes; the default currency when none is given."""
    value = (currency or settings.BILLING_DEFAULT_CURRENCY).strip().upper()
    if not CURRENCY_RE.match(value) or value not in supported_currencies():
        raise InvalidCurrency(fields={"currency": InvalidCurrency.message})
    return value


def _is_whole_number(value: Any) -> bool:
    # bool is an int subclass; floats and strings are refused outright, never rounded
    return isinstance(value, int) and not isinstance(value, bool)


def clean_price(price: Any, *, field: str = "price") -> int:
    """0 (free) or a whole number of minor units within the paid bounds."""
    if not _is_whole_number(price):
        raise InvalidPrice(fields={field: "Give the price as a whole number of minor units."})
    if price == 0:
        return 0
    low, high = settings.CONSULT_PRICE_MIN, settings.CONSULT_PRICE_MAX
    if not low <= price <= high:
        raise InvalidPrice(
            fields={field: f"A paid price is between {low} and {high} minor units, or 0 for free."}
        )
    return int(price)


def lawyer_price_validate(*, price: Any, currency: str | None) -> tuple[int, str]:
    """Clean a lawyer's own price for `PUT /lawyer/profile`: (price, currency)."""
    return clean_price(price), clean_currency(currency)


def platform_fee_bp() -> int:
    bp = settings.PLATFORM_FEE_BASIS_POINTS
    if not 0 <= bp <= BASIS_POINTS:
        raise ValueError("PLATFORM_FEE_BASIS_POINTS must be between 0 and 10000")
    return bp


def fee_split(amount: int, fee_bp: int) -> tuple[int, int]:
    """(platform fee, lawyer earning), rounding the fee half up; the two add up to amount."""
    if not _is_whole_number(amount) or not _is_whole_number(fee_bp):
        raise TypeError("money is integer minor units")
    fee = (amount * fee_bp + BASIS_POINTS // 2) // BASIS_POINTS
    return fee, amount - fee


def consult_price_quote(
    *,
    requested_lawyer: Any | None,
    paid: bool,
    price: Any | None,
    currency: str | None,
) -> Quote:
    """The price a new consult is frozen at.

    With a named lawyer, the asker must have seen that lawyer's current price: a `price` that
    differs is `price_changed` (409). Without one, the asker names a price within the bounds,
    and only lawyers at or below it are offered the consult. A free consult is price 0.
    `requested_lawyer` is the lawyer's User (with a `lawyer_profile`) or None.
    """
    fee_bp = platform_fee_bp()
    if requested_lawyer is not None:
        profile = requested_lawyer.lawyer_profile
        current = Quote(int(profile.price), profile.currency.upper(), fee_bp)
        if not paid:
            if current.price != 0:
                raise PriceChanged(fields={"price": f"{current.price} {current.currency}"})
            return current
        if price is None or not _is_whole_number(price):
            raise InvalidPrice(fields={"price": "Give the price you were shown."})
        asked_currency = clean_currency(currency or current.currency)
        if price != current.price or asked_currency != current.currency:
            raise PriceChanged(fields={"price": f"{current.price} {current.currency}"})
        return current
    if not paid:
        return Quote(0, clean_currency(currency), fee_bp)
    cleaned = clean_price(price)
    if cleaned == 0:
        raise InvalidPrice(fields={"price": "A paid consult needs a price above 0."})
    return Quote(cleaned, clean_currency(currency), fee_bp)
