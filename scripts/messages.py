"""Refresh and compile translations: the project templates/config into locale/, each app into
<app>/locale/ (so apps never edit one shared .po file).

A string that moves from one catalogue to another (a template moved, an app uses another's
string) keeps its translation: every translation made so far is gathered first, in the order
Django looks them up (locale/, then the apps as INSTALLED_APPS lists them), and makemessages
fills new entries from it (pages/management/commands/makemessages.py). No fuzzy guesses are
made; a new string stays untranslated until someone translates it."""

import os
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
APPS = ("accounts", "marketplace", "messaging", "billing", "qa", "pages", "dashboard")
LANGUAGE = "zh_Hans"
PY = sys.executable


def run(args: list[str], cwd: Path, env: dict[str, str] | None = None) -> None:
    subprocess.run(args, cwd=cwd, check=True, env=env)


def catalogues() -> list[Path]:
    """Every catalogue, in the order Django prefers their translations."""
    places = [ROOT / "locale", *(ROOT / app / "locale" for app in APPS)]
    found = [place / LANGUAGE / "LC_MESSAGES" / "django.po" for place in places]
    return [po for po in found if po.exists()]


def build_compendium(target: Path) -> None:
    """Every translated, non-fuzzy entry of every catalogue; the preferred one where two
    catalogues translate the same string."""
    merged = target.with_suffix(".all.po")
    run(["msgcat", "--use-first", "-o", str(merged), *map(str, catalogues())], ROOT)
    run(["msgattrib", "--translated", "--no-fuzzy", "-o", str(target), str(merged)], ROOT)


def main() -> None:
    manage = str(ROOT / "manage.py")
    with tempfile.TemporaryDirectory() as scratch:
        compendium = Path(scratch) / "compendium.po"
        build_compendium(compendium)
        env = {**os.environ, "LAWLINE_MESSAGES_COMPENDIUM": str(compendium)}
        makemessages = [PY, manage, "makemessages", "-l", LANGUAGE, "--no-obsolete"]
        # project-level strings: templates/, config/, static/js
        ignored = [".venv/*", *(f"{app}/*" for app in APPS), "tests/*", "scripts/*"]
        run([*makemessages, *(arg for name in ignored for arg in ("-i", name))], ROOT, env)
        for app in APPS:
            app_dir = ROOT / app
            if app_dir.is_dir():
                (app_dir / "locale").mkdir(exist_ok=True)
                run(makemessages, app_dir, env)
    run([PY, manage, "compilemessages", "-i", ".venv"], ROOT)


if __name__ == "__main__":
    main()
