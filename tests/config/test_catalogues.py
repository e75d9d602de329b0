"""The translation catalogues: Django merges every app's into one, so a msgid means one thing."""

import gettext
import subprocess
import sys
from pathlib import Path

from django.apps import apps
from django.conf import settings


def catalogues_in_merge_order() -> list[Path]:
    """The project's compiled catalogues, LOCALE_PATHS first and then the apps in
    INSTALLED_APPS order: Django takes a msgid's translation from the first that has it."""
    base = Path(settings.BASE_DIR)
    dirs = [Path(p) for p in settings.LOCALE_PATHS]
    dirs += [Path(app.path) / "locale" for app in apps.get_app_configs()]
    files = [d / "zh_Hans" / "LC_MESSAGES" / "django.mo" for d in dirs]
    return [f for f in files if f.is_file() and f.is_relative_to(base) and ".venv" not in f.parts]


def test_a_msgid_has_one_chinese_translation_across_catalogues():
    # given every project catalogue, keyed as gettext keys them ("context\x04msgid")
    catalogues = catalogues_in_merge_order()
    seen: dict[object, dict[str, object]] = {}
    for mo in catalogues:
        with mo.open("rb") as f:
            catalog = gettext.GNUTranslations(f)._catalog  # type: ignore[attr-defined]
        for key, text in catalog.items():
            if key:  # "" is the header
                seen.setdefault(key, {})[str(mo.parents[3].name)] = text
    # when
    clashes = {key: by_app for key, by_app in seen.items() if len(set(by_app.values())) > 1}
    # then: a word with two meanings needs a context (pgettext_lazy, {% trans … context … %}),
    # else one app's Chinese shows on every page that uses it
    assert len(catalogues) == 8
    assert clashes == {}


def _translations(root: Path) -> dict[str, str]:
    """Every string's Chinese in the compiled catalogues under `root` (no msgid has two, see
    above, so the order they are read in does not matter)."""
    merged: dict[str, str] = {}
    for mo in root.glob("*/**/zh_Hans/LC_MESSAGES/django.mo"):
        if ".venv" not in mo.relative_to(root).parts:
            with mo.open("rb") as f:
                catalog = gettext.GNUTranslations(f)._catalog  # type: ignore[attr-defined]
            merged.update({key: text for key, text in catalog.items() if key})
    return merged


def test_make_messages_keeps_every_translation_and_the_catalogues_are_in_step(tmp_path):
    # given a copy of the project's files
    root = Path(settings.BASE_DIR)
    listed = subprocess.run(["git", "ls-files", "-z"], cwd=root, capture_output=True, check=True)
    for name in filter(None, listed.stdout.decode().split("\0")):
        if (root / name).is_file():
            (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
            (tmp_path / name).write_bytes((root / name).read_bytes())
    # when `make messages` refreshes the copy's catalogues from its code
    result = subprocess.run(
        [sys.executable, "scripts/messages.py"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    # then no translation changed or went missing, and no string is left untranslated
    before, after = _translations(root), _translations(tmp_path)
    assert {
        k: (before[k], after[k]) for k in before.keys() & after.keys() if before[k] != after[k]
    } == {}
    for po in tmp_path.glob("*/**/zh_Hans/LC_MESSAGES/django.po"):
        untranslated = subprocess.run(
            ["msgattrib", "--untranslated", str(po)], capture_output=True, text=True, check=True
        ).stdout
        assert "msgid" not in untranslated, f"{po.relative_to(tmp_path)}:\n{untranslated}"
    # and the committed catalogues are what the script makes: nothing stale, nothing missing
    assert (before.keys() - after.keys(), after.keys() - before.keys()) == (set(), set())
