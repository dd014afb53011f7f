"""Golden SQL fixtures: read, check, and (with SPYNE_UPDATE_GOLDEN=1) rewrite them.

A case is a ``# title:`` line, optional headers, the input SQL ending with ``;`` and, in valid
files, the expected warehouse SQL ending with ``;``. Headers:

    # dialect: postgres        the analyst's dialect (default: the warehouse's)
    # warehouse: sqlite        sqlite (default) | postgres | duckdb
    # catalog: shop            shop (default) | tpch | live (tests/planner/live.py, run for real)
    # expect: same             live cases: the warehouse's answer equals the analyst dialect's
                               (``same``) or differs as an assumption of the preview says
    # pins: orders=1, x=2
    # shadow: true             may_view_shadow
    # max_rows: 100
    # guardrails: A, B         the guardrail types expected, in order (written on regeneration)
    # error: TABLE_NOT_FOUND   in ``*__invalid.sql`` files: the expected error code
    # range: 1:8-1:14          where the error points (line:column of its start and just past its end)
    # fixes: status, state     the replacements its quick fixes offer, in order
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

from planner import Pin, PlanOptions
from planner.catalog import CatalogSnapshot
from tests.planner import live
from tests.planner.catalogs import shop_catalog, tpch_catalog

FIXTURES = Path(__file__).parent / "fixtures"
UPDATE = os.environ.get("SPYNE_UPDATE_GOLDEN") == "1"
CATALOGS = {"shop": shop_catalog(), "tpch": tpch_catalog()}
_ORDER = ("dialect", "warehouse", "catalog", "pins", "shadow", "max_rows", "expect", "guardrails", "error", "range",
          "fixes")


@dataclass
class Case:
    file: Path
    title: str
    headers: dict[str, str]
    sql: str
    expected: str | None = None
    extra: list[str] = field(default_factory=list)

    @property
    def id(self) -> str:
        return f"{self.file.stem}:{self.title}"

    def options(self) -> PlanOptions:
        h = self.headers
        pins = tuple(Pin(t.strip(), int(v)) for t, v in
                     (p.split("=") for p in h.get("pins", "").split(",") if p.strip()))
        return PlanOptions(warehouse_dialect=h.get("warehouse", "sqlite"), dialect=h.get("dialect"),
                           pins=pins, may_view_shadow=h.get("shadow") == "true",
                           max_rows=int(h.get("max_rows", "10000")))

    def catalog(self) -> CatalogSnapshot:
        name = self.headers.get("catalog", "shop")
        if name == "live":  # the tables of tests/planner/live.py, typed as the warehouse types them
            return live.catalog(self.headers.get("warehouse", "sqlite"))
        return CATALOGS[name]

    def render(self) -> str:
        lines = [f"# title: {self.title}"]
        lines += [f"# {k}: {self.headers[k]}" for k in _ORDER if k in self.headers]
        lines.append(self.sql + ";")
        if self.expected is not None:
            lines.append(self.expected + ";")
        return "\n".join(lines)


def load(path: Path) -> list[Case]:
    cases: list[Case] = []
    for block in path.read_text().split("# title: ")[1:]:
        title, _, rest = block.partition("\n")
        headers: dict[str, str] = {}
        body: list[str] = []
        for line in rest.splitlines():
            if line.startswith("# ") and ":" in line and not body:
                key, _, value = line[2:].partition(":")
                headers[key.strip()] = value.strip()
            elif line.strip() or body:
                body.append(line)
        statements = [s.strip() for s in _split("\n".join(body))]
        case = Case(path, title.strip(), headers, statements[0] if statements else "")
        if len(statements) > 1:
            case.expected = statements[1]
        cases.append(case)
    return cases


def _split(text: str) -> list[str]:
    """Split on a ';' that ends a line (SQL inside a case may contain ';' in strings)."""
    parts, current = [], []
    for line in text.splitlines():
        current.append(line)
        if line.rstrip().endswith(";"):
            parts.append("\n".join(current).rstrip().rstrip(";"))
            current = []
    if "".join(current).strip():
        parts.append("\n".join(current))
    return parts


def save(path: Path, cases: list[Case]) -> None:
    path.write_text("\n\n".join(c.render() for c in cases) + "\n")


def all_cases(invalid: bool) -> list[Case]:
    files = sorted(p for p in FIXTURES.glob("*.sql")
                   if p.stem.endswith("__invalid") == invalid and not p.name.startswith("drift"))
    return [case for f in files for case in load(f)]
