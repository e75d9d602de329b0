"""Money is never a float: not in the models, not in the code that computes it, not in the API."""

from __future__ import annotations

import ast
from pathlib import Path

from django.db import models

import billing
from billing.models import LedgerEntry, Payment
from marketplace.models import Consult, LawyerProfile

MONEY_MODULES = (
    "prices.py",
    "ledger.py",
    "services.py",
    "webhooks.py",
    "payment_states.py",
    "selectors.py",
    "gateways/base.py",
    "gateways/stripe.py",
    "gateways/sandbox.py",
)


def test_money_fields_are_integers():
    for field in (
        Payment._meta.get_field("amount"),
        LedgerEntry._meta.get_field("amount"),
        Consult._meta.get_field("price"),
        LawyerProfile._meta.get_field("price"),
    ):
        assert isinstance(field, models.IntegerField), field
    money_models = [Payment, LedgerEntry]
    for model in money_models:
        assert not [f for f in model._meta.fields if isinstance(f, models.FloatField)]


def test_money_code_has_no_float_literals_or_float_calls():
    root = Path(billing.__file__).parent
    offenders = []
    for name in MONEY_MODULES:
        path = root / name
        tree = ast.parse(path.read_text(), filename=str(path))
        for node in ast.walk(tree):
            if isinstance(node, ast.Constant) and isinstance(node.value, float):
                offenders.append(f"{name}:{node.lineno} float literal")
            if isinstance(node, ast.Call) and getattr(node.func, "id", None) == "float":
                offenders.append(f"{name}:{node.lineno} float()")
            if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Div):
                offenders.append(f"{name}:{node.lineno} true division")
    assert offenders == []


def test_api_money_fields_are_integers_in_the_schema(api, db):
    schema = api(None).get("openapi.json").json()["components"]["schemas"]
    checked = 0
    for name, spec in schema.items():
        for field, prop in spec.get("properties", {}).items():
            if field in {"amount", "price", "earned", "refunded", "net", "gross"}:
                types = {prop.get("type")} | {s.get("type") for s in prop.get("anyOf", [])}
                assert "number" not in types, f"{name}.{field}"
                assert "integer" in types, f"{name}.{field}: {prop}"
                checked += 1
    assert checked >= 5
