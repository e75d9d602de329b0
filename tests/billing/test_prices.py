from __future__ import annotations

import pytest

from billing.errors import InvalidCurrency, InvalidPrice, PriceChanged
from billing.prices import consult_price_quote, fee_split, lawyer_price_validate
from tests.factories import LawyerProfileFactory


@pytest.fixture
def priced_lawyer(db):
    return LawyerProfileFactory(price=8800, currency="CNY").user


def test_named_lawyer_quote_is_the_lawyers_current_price(priced_lawyer):
    # when
    quote = consult_price_quote(
        requested_lawyer=priced_lawyer, paid=True, price=8800, currency="CNY"
    )
    # then
    assert (quote.price, quote.currency) == (8800, "CNY")


def test_named_lawyer_with_a_stale_price_gets_price_changed(priced_lawyer):
    # given the asker saw the old price
    with pytest.raises(PriceChanged) as caught:
        consult_price_quote(requested_lawyer=priced_lawyer, paid=True, price=6600, currency="CNY")
    # then
    assert caught.value.status == 409
    assert caught.value.code == "price_changed"


def test_free_consult_with_a_paid_lawyer_gets_price_changed(priced_lawyer):
    with pytest.raises(PriceChanged):
        consult_price_quote(requested_lawyer=priced_lawyer, paid=False, price=None, currency=None)


def test_open_consult_price_must_be_within_bounds(settings):
    settings.CONSULT_PRICE_MIN, settings.CONSULT_PRICE_MAX = 500, 50000
    assert (
        consult_price_quote(requested_lawyer=None, paid=True, price=500, currency=None).price == 500
    )
    for bad in (499, 50001, -1):
        with pytest.raises(InvalidPrice):
            consult_price_quote(requested_lawyer=None, paid=True, price=bad, currency="CNY")


@pytest.mark.parametrize("price", [49.5, "4900", True, None])
def test_price_that_is_not_a_whole_number_is_refused(price):
    with pytest.raises(InvalidPrice):
        consult_price_quote(requested_lawyer=None, paid=True, price=price, currency="CNY")


def test_open_free_consult_is_price_zero_in_the_default_currency():
    quote = consult_price_quote(requested_lawyer=None, paid=False, price=None, currency=None)
    assert (quote.price, quote.currency, quote.is_free) == (0, "CNY", True)


def test_lawyer_price_defaults_to_cny_and_refuses_unknown_currencies():
    assert lawyer_price_validate(price=0, currency=None) == (0, "CNY")
    assert lawyer_price_validate(price=1200, currency="cny") == (1200, "CNY")
    with pytest.raises(InvalidCurrency):
        lawyer_price_validate(price=1200, currency="XYZ")
    with pytest.raises(InvalidCurrency):
        lawyer_price_validate(price=1200, currency="RMB¥")


def test_fee_split_adds_up_and_rounds_half_up():
    assert fee_split(4900, 2000) == (980, 3920)
    assert fee_split(1, 5000) == (1, 0)  # 0.5 fen rounds up to the platform
    assert fee_split(999, 1234) == (123, 876)
    for amount in range(0, 3000, 7):
        fee, earning = fee_split(amount, 1999)
        assert fee + earning == amount and fee >= 0 and earning >= 0


def test_fee_split_refuses_floats():
    with pytest.raises(TypeError):
        fee_split(49.0, 2000)  # type: ignore[arg-type]


def test_matching_offers_a_consult_only_to_lawyers_at_or_below_its_price(db):
    # given lawyers priced 0, 3000, 4900 and 9900
    from marketplace.matching import candidate_rows
    from tests.billing.factories import pending_consult

    by_price = {price: LawyerProfileFactory(price=price) for price in (0, 3000, 4900, 9900)}
    price_of = {profile.user_id: price for price, profile in by_price.items()}
    paid, free = pending_consult(price=4900), pending_consult(price=0)
    free.is_paid = False

    def offered_prices(consult):
        rows = candidate_rows(consult, "nation", any_category=True)
        return {price_of[row["user_id"]] for row in rows if row["user_id"] in price_of}

    # when / then
    assert offered_prices(paid) == {0, 3000, 4900}
    assert offered_prices(free) == {0}
