"""One vocabulary for the quarterly dataset's labels, whatever a release called them.

The December 2022 release says "Under 18", "18-24", "25-39", "40+"; later ones "17 and under",
"18 to 24", "25 to 39", "40 and over". Queries use the later wording. "Unknown" and "Not
currently recorded" stay apart (they mean different things), and a blank cell is its own
category, "Not given", so nothing is dropped and every breakdown adds up to the total. The
labels as published are kept beside the mapped ones in the store.
"""

from __future__ import annotations

import re
from typing import Any

__all__ = ["NOT_GIVEN", "plain_label", "age_group", "sex"]

NOT_GIVEN = "Not given"
_SPECIAL = {"unknown": "Unknown", "not currently recorded": "Not currently recorded"}
_RANGE = re.compile(r"^(\d{1,3})\s*(?:-|–|to)\s*(\d{1,3})$")
_OVER = re.compile(r"^(\d{1,3})\s*(?:\+|and over|or over|and above)$")
_UNDER = re.compile(r"^(?:under|less than|below)\s*(\d{1,3})$")
_UP_TO = re.compile(r"^(\d{1,3})\s*(?:and under|or under|and below)$")


def plain_label(value: Any) -> str:
    """A label with its spacing tidied; a blank cell is "Not given"."""
    text = " ".join(str(value if value is not None else "").replace("\xa0", " ").split())
    if not text:
        return NOT_GIVEN
    return _SPECIAL.get(text.lower(), text)


def age_group(value: Any) -> str:
    """An age group in the latest releases' words ("Under 18" -> "17 and under")."""
    text = plain_label(value)
    lowered = text.lower()
    if match := _RANGE.match(lowered):
        return f"{int(match[1])} to {int(match[2])}"
    if match := _OVER.match(lowered):
        return f"{int(match[1])} and over"
    if match := _UNDER.match(lowered):
        return f"{int(match[1]) - 1} and under"
    if match := _UP_TO.match(lowered):
        return f"{int(match[1])} and under"
    return text


def sex(value: Any) -> str:
    """Male, Female, Unknown, Not currently recorded or Not given (capitalised as published)."""
    text = plain_label(value)
    return {"male": "Male", "female": "Female"}.get(text.lower(), text)
