"""Refresh and compile translations: the project templates/config into locale/, each app into
<app>/locale/ (so apps never edit one shared .po file)."""

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
APPS = ("accounts", "marketplace", "messaging", "billing", "qa", "pages", "dashboard")
PY = sys.executable


def run(args: list[str], cwd: Path) -> None:
    subprocess.run(args, cwd=cwd, check=True)


def main() -> None:
    manage = str(ROOT / "manage.py")
    # project-level strings: templates/, config/, static/js
    run(
        [
            PY,
            manage,
            "makemessages",
            "-l",
            "zh_Hans",
            "--no-obsolete",
            "-i",
            ".venv/*",
            "-i",
            "accounts/*",
            "-i",
            "marketplace/*",
            "-i",
            "messaging/*",
            "-i",
            "billing/*",
            "-i",
            "qa/*",
            "-i",
            "pages/*",
            "-i",
            "dashboard/*",
            "-i",
            "tests/*",
        ],
        ROOT,
    )
    for app in APPS:
        app_dir = ROOT / app
        if app_dir.is_dir():
            (app_dir / "locale").mkdir(exist_ok=True)
            run([PY, manage, "makemessages", "-l", "zh_Hans", "--no-obsolete"], app_dir)
    run([PY, manage, "compilemessages", "-i", ".venv"], ROOT)


if __name__ == "__main__":
    main()
