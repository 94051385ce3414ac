"""The Jinja environment every report template is rendered with: autoescaped, strict, our formats.

Text that comes from GOV.UK or the data (notes, file names, URLs) is untrusted: every template
autoescapes it and only http(s) URLs ever become links.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Any

from forecasting.report.formats import fmt_int, long_date, safe_url, short_date

__all__ = ["TEMPLATES", "environment", "captions"]

TEMPLATES = Path(__file__).with_name("templates")


@cache
def environment() -> Any:
    """One per process, so its templates are compiled once (a backfill writes a page per date)."""
    import jinja2

    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(TEMPLATES)),
        autoescape=True,  # every template, whatever its name: data text is untrusted
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["long_date"] = lambda d: "" if d is None else long_date(d)
    env.filters["short_date"] = lambda d: "" if d is None else short_date(d)
    env.filters["int"] = fmt_int
    env.filters["safe_url"] = safe_url
    return env


def captions() -> Any:
    """The captions template's module: one macro per chart."""
    return environment().get_template("captions.html").module
