"""Build the demo world in seconds, idempotently. Each app adds its part in `<app>/demo.py`
(a `seed(stdout)` function); steps run in the order below and may rely on earlier ones."""

import time
from importlib import import_module
from importlib.util import find_spec

from django.core.management.base import BaseCommand
from django.db import transaction

from accounts.demo import DEMO_LOGINS, DEMO_PASSWORD

DEMO_STEPS = ("accounts", "marketplace", "messaging", "billing", "qa")


class Command(BaseCommand):
    help = "Load the demo world (idempotent) and print the demo logins."

    def handle(self, *args, **options):
        started = time.monotonic()
        for app in DEMO_STEPS:
            module_name = f"{app}.demo"
            if find_spec(app) is None or find_spec(module_name) is None:
                continue
            with transaction.atomic():
                import_module(module_name).seed(self.stdout)
        self.stdout.write(f"demo world ready in {time.monotonic() - started:.1f}s")
        self.stdout.write(f"demo logins (password: {DEMO_PASSWORD}):")
        for role, username in DEMO_LOGINS:
            self.stdout.write(f"  {role:7} {username}")
