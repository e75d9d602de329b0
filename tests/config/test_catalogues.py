"""The translation catalogues: Django merges every app's into one, so a msgid means one thing."""

import gettext
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
