from __future__ import annotations

import hashlib
import hmac
import json
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from django.test import Client

from tests.billing.fake_stripe import FakeStripe

WEBHOOK_SECRET = "whsec_test_lawline"
WEBHOOK_URL = "/billing/stripe/webhook"


@pytest.fixture
def fake_stripe() -> Iterator[FakeStripe]:
    fake = FakeStripe().start()
    yield fake
    fake.stop()


@pytest.fixture
def stripe_on(settings, fake_stripe: FakeStripe) -> FakeStripe:
    """Stripe configured, pointed at the fake; the SDK's own retries off unless a test asks."""
    settings.STRIPE_SECRET_KEY = "sk_test_lawline"
    settings.STRIPE_PUBLISHABLE_KEY = "pk_test_lawline"
    settings.STRIPE_API_BASE = fake_stripe.url
    settings.STRIPE_WEBHOOK_SECRET = WEBHOOK_SECRET
    settings.STRIPE_MAX_NETWORK_RETRIES = 0
    settings.STRIPE_TIMEOUT_SECONDS = 5.0
    return fake_stripe


@pytest.fixture
def sandbox_on(settings) -> None:
    settings.STRIPE_SECRET_KEY = ""
    settings.STRIPE_WEBHOOK_SECRET = ""


def sign(payload: bytes, *, secret: str = WEBHOOK_SECRET, timestamp: int | None = None) -> str:
    timestamp = int(time.time()) if timestamp is None else timestamp
    digest = hmac.new(
        secret.encode(), f"{timestamp}.".encode() + payload, hashlib.sha256
    ).hexdigest()
    return f"t={timestamp},v1={digest}"


def stripe_event(event_type: str, obj: dict[str, Any], *, event_id: str | None = None) -> dict:
    return {
        "id": event_id or f"evt_{time.monotonic_ns()}",
        "object": "event",
        "type": event_type,
        "created": int(time.time()),
        "livemode": False,
        "api_version": "2026-10-28.endive",
        "data": {"object": obj},
    }


@pytest.fixture
def post_webhook() -> Callable[..., Any]:
    """`post_webhook(event)` → the response of a correctly signed delivery (with CSRF checks
    on, as for any outside caller: the endpoint is exempt)."""
    client = Client(enforce_csrf_checks=True)

    def post(event: dict, *, signature: str | None = None, body: bytes | None = None):
        payload = body if body is not None else json.dumps(event).encode()
        headers = {}
        if signature != "":
            headers["HTTP_STRIPE_SIGNATURE"] = signature or sign(payload)
        return client.post(WEBHOOK_URL, payload, content_type="application/json", **headers)

    return post
