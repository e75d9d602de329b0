"""The one table `make bench` prints, and the JSON it writes under `.bench/`.

Each row is a figure beside a reference measured in the same run, with the ratio between
them and the target the issue sets. A figure that could not be measured says why instead of
showing a number."""

from __future__ import annotations

import json
import operator
import platform
import subprocess
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

COMPARATORS: dict[str, Callable[[float, float], bool]] = {
    "<=": operator.le,
    "<": operator.lt,
    ">=": operator.ge,
    ">": operator.gt,
}


@dataclass
class Target:
    op: str  # "<=", "<", ">=", ">"
    value: float
    on: str = "value"  # "value" or "ratio": what the bound applies to

    def met(self, value: float | None, ratio: float | None) -> bool | None:
        subject = value if self.on == "value" else ratio
        if subject is None:
            return None
        return COMPARATORS[self.op](subject, self.value)

    def __str__(self) -> str:
        prefix = "ratio " if self.on == "ratio" else ""
        return f"{prefix}{self.op} {fmt(self.value)}"


@dataclass
class Row:
    section: str
    figure: str
    value: float | None
    unit: str
    reference: str = ""
    reference_value: float | None = None
    reference_unit: str = ""
    targets: list[Target] = field(default_factory=list)
    note: str = ""  # why not measured, or a condition worth reading beside the value
    detail: dict[str, Any] = field(default_factory=dict)

    @property
    def ratio(self) -> float | None:
        if self.value is None or not self.reference_value:
            return None
        return self.value / self.reference_value

    @property
    def verdict(self) -> str:
        if self.value is None:
            return "n/a"
        if not self.targets:
            return "info"
        results = [t.met(self.value, self.ratio) for t in self.targets]
        if any(r is False for r in results):
            return "MISS"
        return "pass"

    def as_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["targets"] = [str(t) for t in self.targets]
        data["ratio"] = self.ratio
        data["verdict"] = self.verdict
        return data


def fmt(value: float | None) -> str:
    if value is None:
        return "-"
    if value == 0:
        return "0"
    magnitude = abs(value)
    if magnitude >= 1000:
        return f"{value:,.0f}"
    if magnitude >= 100:
        return f"{value:.0f}"
    if magnitude >= 10:
        return f"{value:.1f}"
    if magnitude >= 1:
        return f"{value:.2f}"
    return f"{value:.3f}"


class Report:
    def __init__(self, profile: str):
        self.profile = profile
        self.rows: list[Row] = []
        self.started = time.time()
        self.environment: dict[str, Any] = {}
        self.sections_seconds: dict[str, float] = {}
        self.sections_load: dict[str, tuple[float, float]] = {}
        self.extra: dict[str, Any] = {}

    def add(self, row: Row) -> Row:
        self.rows.append(row)
        print(f"  {row.figure}: {fmt(row.value)} {row.unit} {row.note}".rstrip(), flush=True)
        return row

    def missing(self, section: str, figure: str, why: str, targets=None) -> Row:
        return self.add(
            Row(
                section, figure, None, "", targets=list(targets or []), note=f"not measured ({why})"
            )
        )

    def table(self) -> str:
        headers = ["figure", "value", "reference", "ref value", "ratio", "target", "result"]
        lines: list[list[str]] = []
        section = None
        for row in self.rows:
            if row.section != section:
                section = row.section
                load = self.sections_load.get(section)
                where = f"load avg {load[0]}→{load[1]}" if load else ""
                lines.append([f"[{section}]", where, "", "", "", "", ""])
            value = f"{fmt(row.value)} {row.unit}".strip() if row.value is not None else row.note
            reference_value = (
                f"{fmt(row.reference_value)} {row.reference_unit}".strip()
                if row.reference_value is not None
                else ""
            )
            ratio = f"{row.ratio:.2f}x" if row.ratio is not None else ""
            targets = "; ".join(str(t) for t in row.targets)
            lines.append(
                [row.figure, value, row.reference, reference_value, ratio, targets, row.verdict]
            )
        widths = [max(len(h), *(len(line[i]) for line in lines)) for i, h in enumerate(headers)]
        widths = [min(w, 58) for w in widths]

        def render(cells: list[str]) -> str:
            return "  ".join(c[:w].ljust(w) for c, w in zip(cells, widths, strict=True)).rstrip()

        out = [render(headers), render(["-" * w for w in widths])]
        out += [render(line) for line in lines]
        notes = [f"  - {r.figure}: {r.note}" for r in self.rows if r.note and r.value is not None]
        if notes:
            out += ["", "notes:", *notes]
        return "\n".join(out)

    def write_json(self, folder: Path) -> Path:
        folder.mkdir(parents=True, exist_ok=True)
        stamp = datetime.now(tz=UTC).strftime("%Y%m%dT%H%M%SZ")
        data = {
            "profile": self.profile,
            "started": datetime.fromtimestamp(self.started, tz=UTC).isoformat(),
            "seconds": round(time.time() - self.started, 1),
            "environment": self.environment | machine_facts(),
            "sections_seconds": self.sections_seconds,
            "sections_load_average": self.sections_load,
            "rows": [r.as_json() for r in self.rows],
            **self.extra,
        }
        data["before"] = previous_values(folder, self.profile, data["rows"])
        path = folder / f"bench-{stamp}-{self.profile}.json"
        text = json.dumps(data, indent=2, ensure_ascii=False, default=str)
        path.write_text(text)
        (folder / "latest.json").write_text(text)
        return path


def previous_values(folder: Path, profile: str, rows: list[dict]) -> dict[str, Any]:
    """Each figure of this run beside its value in the newest earlier run of the same profile
    that measured it, so a change shows its before and after in one file."""
    runs = sorted(folder.glob(f"bench-*-{profile}.json"), reverse=True)
    wanted = {(r["section"], r["figure"]) for r in rows if r.get("value") is not None}
    before: dict[str, Any] = {}
    for run in runs:
        if not wanted:
            break
        try:
            earlier = json.loads(run.read_text())
        except (OSError, ValueError):
            continue
        for row in earlier.get("rows", []):
            figure = (row.get("section"), row.get("figure"))
            if figure in wanted and row.get("value") is not None:
                wanted.discard(figure)
                before[f"{figure[0]}: {figure[1]}"] = {
                    "value": row["value"],
                    "run": run.name,
                    "verdict": row.get("verdict"),
                }
    return before


def machine_facts() -> dict[str, Any]:
    facts: dict[str, Any] = {"python": platform.python_version(), "machine": platform.machine()}
    try:
        import os

        facts["cpus"] = os.cpu_count()
        facts["loadavg_at_end"] = os.getloadavg()
        facts["git_commit"] = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, check=False
        ).stdout.strip()
    except OSError:
        pass
    return facts
