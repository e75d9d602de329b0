"""Showing money. Amounts are integers in minor units everywhere; this is the one place that
turns them into text, with integer arithmetic only."""

from __future__ import annotations

ZERO_DECIMAL_CURRENCIES = frozenset({"JPY", "KRW", "VND", "CLP", "ISK", "UGX"})
CURRENCY_SYMBOLS = {"CNY": "¥", "USD": "$", "EUR": "€", "GBP": "£", "HKD": "HK$"}


def major_units(amount: int, currency: str = "CNY") -> str:
    """12345 fen → "123.45", 1234500 → "12,345.00"; zero-decimal currencies as they are."""
    if currency.upper() in ZERO_DECIMAL_CURRENCIES:
        return f"{amount:,}"
    sign = "-" if amount < 0 else ""
    amount = abs(amount)
    return f"{sign}{amount // 100:,}.{amount % 100:02d}"


def format_money(amount: int, currency: str) -> str:
    """Integer minor units → "¥12.50" (or "12.50 CHF" where no symbol is known)."""
    currency = currency.upper()
    number = major_units(amount, currency)
    symbol = CURRENCY_SYMBOLS.get(currency)
    return f"{symbol}{number}" if symbol else f"{number} {currency}"
