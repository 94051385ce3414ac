"""The CI soak: fifteen nights in a row of the nightly run against the local GOV.UK, day by day.

Each night runs as if it were its day (CROSSINGS_TODAY) and the local GOV.UK publishes what the
real site would have (tests/govuk_calendar.py): a page every day, the weekly release on Friday,
and every event once (a revision of an earlier week, a reissue, the two glitch page shapes,
GOV.UK out of reach, the store held by another process). The nights run `crossings run`
in-process against one Prefect API (tests/soak_nights.py, shared with benchmarks/soak.py, which runs
sixty and measures). After every night: the exit status the README documents, the store whole,
the figures as GOV.UK published them, the report written and its stale banner when and only
when due. No timings are asserted here.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
from govuk_calendar import EVENTS, plan
from soak_nights import Soak

FIRST_NIGHT = date(2026, 1, 5)  # a Monday: the Friday before it is the first release held
NIGHTS = 15


def test_plan_places_every_event_once_in_fifteen_nights() -> None:
    nights = plan(FIRST_NIGHT, NIGHTS)
    placed = [e for n in nights for e in n.events]
    assert sorted(placed) == sorted(EVENTS)
    assert not nights[0].events  # the first night builds the store from a normal GOV.UK
    (revision,) = [n.day for n in nights if "revision" in n.events]
    (reissue,) = [n.day for n in nights if "reissue" in n.events]
    assert revision.weekday() == 4 and reissue.weekday() == 5


@pytest.mark.integration  # nights of the nightly run against a Prefect API
@pytest.mark.slow
def test_fifteen_nights_each_end_as_documented(prefect_api: str, tmp_path: Path) -> None:
    soak = Soak(tmp_path, plan(FIRST_NIGHT, NIGHTS))
    results = soak.run()
    report = [
        f"{r.night.day} {','.join(sorted(r.night.events)) or '-'}: exit {r.status}; "
        + "; ".join(r.problems)
        for r in results
        if r.problems
    ]
    assert report == [], "\n".join(report)
    # the stale banner was due once (GOV.UK out of reach) and shown only then
    assert [r.night.day for r in results if r.expected.stale] == [
        n.day for n in soak.nights if not n.reachable
    ]
    # the store kept every vintage: the reissue beside its first issue, the revised week's
    # earlier figures beside the revision
    from forecasting.store import read_frame

    held = read_frame(soak.db, "SELECT file_name FROM publications WHERE kind='weekly_release'")
    names = set(held["file_name"])
    (reissue,) = [n.day for n in soak.nights if "reissue" in n.events]
    friday = soak.calendar.release_day(reissue)
    assert {soak.calendar.release(friday).name, soak.calendar.release(reissue).name} <= names
    assert soak.calendar.revision_day is not None
    values = read_frame(
        soak.db,
        "SELECT DISTINCT migrants_arrived FROM daily_values WHERE date = "
        f"DATE '{soak.calendar.revision_day}'",
    )
    assert len(values) == 2
