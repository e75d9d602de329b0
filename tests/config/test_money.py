"""Money as text: integer arithmetic only, the currency's own minor units."""

import pytest

from config.money import format_money, major_units


@pytest.mark.parametrize(
    ("amount", "currency", "shown"),
    [
        (4900, "CNY", "¥49.00"),
        (5, "cny", "¥0.05"),
        (123456789, "USD", "$1,234,567.89"),
        (-250, "CNY", "¥-2.50"),
        (500, "JPY", "500 JPY"),
        (1999, "CHF", "19.99 CHF"),
    ],
)
def test_format_money(amount, currency, shown):
    assert format_money(amount, currency) == shown


def test_major_units_keep_every_fen_of_large_amounts():
    # a float would print 90071992547409.92 as ...09.9 or round it
    assert major_units(9007199254740992, "CNY") == "90,071,992,547,409.92"
