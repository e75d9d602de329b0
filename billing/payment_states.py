"""A payment's state only moves forward. Webhooks arrive late, twice or out of order; a step
backwards (`authorized` after `captured`) is stale news and is ignored, never applied."""

from __future__ import annotations

from billing.models import Payment

S = Payment.State

# the main line; `canceled` branches off before capture
CHAIN = (S.REQUIRES_PAYMENT, S.AUTHORIZED, S.CAPTURED, S.REFUNDED)
TERMINAL = frozenset({S.CANCELED, S.REFUNDED})


def path_to(current: str, target: str) -> list[str]:
    """The states to pass through, in order, to get from `current` to `target`; empty when the
    move is stale (already there, or past it) or impossible (cancel after capture)."""
    if current == target or current in TERMINAL:
        return []
    if target == S.CANCELED:
        return [S.CANCELED] if current in (S.REQUIRES_PAYMENT, S.AUTHORIZED) else []
    if current == S.CANCELED or target not in CHAIN:
        return []
    here, there = CHAIN.index(S(current)), CHAIN.index(S(target))
    return [str(state) for state in CHAIN[here + 1 : there + 1]]
