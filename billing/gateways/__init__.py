"""Which gateway a payment uses. New payments go to Stripe when `STRIPE_SECRET_KEY` is set,
otherwise to the sandbox; a payment keeps the gateway it was created with."""

from __future__ import annotations

from functools import lru_cache

from django.conf import settings

from billing.gateways.base import PaymentGateway


def stripe_configured() -> bool:
    return bool(settings.STRIPE_SECRET_KEY)


def default_gateway_name() -> str:
    return "stripe" if stripe_configured() else "sandbox"


def get_gateway(name: str) -> PaymentGateway:
    if name == "stripe":
        return _stripe_gateway(
            settings.STRIPE_SECRET_KEY,
            settings.STRIPE_API_BASE,
            settings.STRIPE_TIMEOUT_SECONDS,
            settings.STRIPE_MAX_NETWORK_RETRIES,
        )
    if name == "sandbox":
        from billing.gateways.sandbox import SandboxGateway

        return SandboxGateway()
    raise ValueError(f"unknown payment gateway {name!r}")


@lru_cache(maxsize=4)
def _stripe_gateway(
    secret_key: str, api_base: str, timeout: float, max_network_retries: int
) -> PaymentGateway:
    # one client (and its HTTP connection pool) per configuration
    from billing.gateways.stripe import StripeGateway

    if not secret_key:
        raise RuntimeError("STRIPE_SECRET_KEY is not set")
    return StripeGateway(
        secret_key=secret_key,
        api_base=api_base,
        timeout=timeout,
        max_network_retries=max_network_retries,
    )
