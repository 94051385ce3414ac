"""Each small fact is written once in the code: a second copy would drift from the first.

The facts: the long date format ("26 February 2026"), London's time zone, the forecast horizon's
default (13 weeks) and limit, and `BadArgument` among the other expected failures in
`forecasting/errors.py`. Each test reads the source, so a copy added anywhere fails it.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SOURCES = sorted(p for d in ("forecasting", "flows") for p in (ROOT / d).rglob("*.py"))


def _where(pattern: str) -> list[str]:
    """Every `file:line` of the project's code matching `pattern`."""
    found = []
    for path in SOURCES:
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            if re.search(pattern, line):
                found.append(f"{path.relative_to(ROOT)}:{number}")
    return found


@pytest.mark.parametrize(
    ("fact", "pattern", "home"),
    [
        ("the long date format", r"\.day\}\s*\{\w+(\.\w+)*:%B %Y\}", "forecasting/calendar.py"),
        ("London's time zone", r"Europe/London\"", "forecasting/calendar.py"),
        ("the default horizon", r"^HORIZON_WEEKS\s*=", "forecasting/horizon.py"),
        ("the longest horizon", r"^MAX_HORIZON_WEEKS\s*=", "forecasting/horizon.py"),
        ("BadArgument", r"^class BadArgument\b", "forecasting/errors.py"),
    ],
)
def test_each_fact_is_defined_once(fact: str, pattern: str, home: str) -> None:
    where = _where(pattern)
    assert len(where) == 1 and where[0].startswith(f"{home}:"), f"{fact}: {where}"


def test_no_horizon_is_written_as_a_bare_13() -> None:
    """A horizon default or argument reads `HORIZON_WEEKS`, never the number."""
    assert _where(r"horizon_weeks\b[^=\n]*=\s*13\b|\"horizon_weeks\":\s*13\b|default=13\b") == []


def test_expected_failures_are_imported_from_errors() -> None:
    """`BadArgument` and its kin come from forecasting/errors.py, not through another module."""
    names = "BadArgument|BadInput|StoreError|StoreBusy|SourceUnavailable|ReportError"
    imports = _where(rf"^\s*from forecasting\.(?!errors\b)[\w.]+ import .*\b({names})\b")
    assert imports == []
