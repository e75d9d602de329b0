"""Django's makemessages, with translations carried over from a compendium.

Each app keeps its own catalogue, and a string moves between catalogues when a template moves
or an app starts using another app's string. Plain makemessages then drops the translation
with the old entry and leaves the new one empty or, worse, fills it with a fuzzy guess.
`scripts/messages.py` gathers every translation made so far into a compendium and names it in
LAWLINE_MESSAGES_COMPENDIUM: new entries take their translation from it, exact matches only.
"""

from __future__ import annotations

import os

from django.core.management.commands import makemessages

COMPENDIUM_VARIABLE = "LAWLINE_MESSAGES_COMPENDIUM"


class Command(makemessages.Command):
    msgmerge_options = [*makemessages.Command.msgmerge_options, "--no-fuzzy-matching"]

    def handle(self, *args, **options):
        compendium = os.environ.get(COMPENDIUM_VARIABLE)
        if compendium:
            self.msgmerge_options = [*self.msgmerge_options, f"--compendium={compendium}"]
        return super().handle(*args, **options)
