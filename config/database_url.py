"""DATABASE_URL → Django settings, accepting a unix socket directory as host
(`postgres://user@%2Fpath%2Fto%2Fsockets/db` or `postgres://user@/db?host=/path`)."""

from __future__ import annotations

from typing import Any
from urllib.parse import unquote

import environ


def database_config(url: str) -> dict[str, Any]:
    cfg: dict[str, Any] = dict(environ.Env.db_url_config(url))
    options = dict(cfg.pop("OPTIONS", {}) or {})
    cfg["HOST"] = unquote(str(options.pop("host", cfg.get("HOST") or "")))
    cfg["OPTIONS"] = options
    return cfg
