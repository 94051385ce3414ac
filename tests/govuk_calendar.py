"""GOV.UK day by day: what the local stand-in (tests/govuk_server.py) publishes on each day.

Like the real site: the "last 7 days" page is updated every day at 13:00 London with the seven
days to yesterday, and the weekly time series is released each Friday at 09:30 with the figures
to Thursday. The figures are the real ones (the newest release in ../shared/data, read in place;
days after it are made up by `ods_factory.daily_rows`); releases are written by
`ods_factory.write_release`, pages from a real capture with its table and stamps replaced.

On top of that, one of each event the nightly run must live through (`EVENTS`): a release with a
revision of an earlier week, a reissued release (`_v2`), a page in each of the two glitch shapes
GOV.UK has served, a night GOV.UK cannot be reached (its port refuses connections) and a night
another process holds the store for a while (run by tests/soak_nights.py, which owns the store).
`plan` places them in any window of 15 nights or more.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from functools import cached_property
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from govuk_server import SHARED, GovukServer
from ods_factory import SB01_HEADER, daily_rows, release_name, weekly_rows, write_release

LONDON = ZoneInfo("Europe/London")
HEADER = ["Date", "Migrants arrived", "Boats arrived", "Boats involved in uncontrolled landings",
          "Notes"]  # fmt: skip
EVENTS = ("revision", "reissue", "glitch_header", "glitch_markdown", "unreachable", "held")
# Where each event falls in the window (a fraction of it); Friday events snap to a Friday.
_PLACES = {"glitch_header": 0.2, "revision": 0.3, "unreachable": 0.4, "held": 0.5,
           "reissue": 0.65, "glitch_markdown": 0.75}  # fmt: skip
REVISED_DAYS_BEFORE = 18  # the revision changes the figures of a day this long before the release
REVISION = (25, 1)  # migrants, boats added to that day
FRIDAY = 4


@dataclass(frozen=True)
class Night:
    """One simulated day: the date the night runs as (CROSSINGS_TODAY) and its events."""

    day: date
    events: frozenset[str]

    @property
    def reachable(self) -> bool:
        return "unreachable" not in self.events


def plan(first: date, nights: int) -> list[Night]:
    """`nights` days from `first`, every event in `EVENTS` on its own day (not the first)."""
    if nights < 15:
        raise ValueError("a window of at least 15 nights holds every event")
    days = [first + timedelta(days=i) for i in range(nights)]
    taken: dict[date, str] = {}
    for event, place in sorted(_PLACES.items(), key=lambda item: item[1]):
        friday = event == "revision"
        after_friday = event == "reissue"  # the day after a Friday release, replacing it
        free = [
            d
            for d in days[1:]
            if d not in taken
            and (d.weekday() == FRIDAY) == friday
            and (not after_friday or (d - timedelta(days=1)).weekday() == FRIDAY)
        ]
        if not free:
            raise ValueError(f"no day for {event} in {first}..{days[-1]}")
        target = first + timedelta(days=round(place * (nights - 1)))
        taken[min(free, key=lambda d: abs((d - target).days))] = event
    return [Night(d, frozenset({taken[d]} if d in taken else ())) for d in days]


class GovukCalendar:
    """What GOV.UK serves on each day of a plan; `publish` sets the local server to it."""

    def __init__(self, folder: Path, nights: list[Night], shared: Path = SHARED) -> None:
        self.folder = folder
        self.nights = nights
        self.shared = shared
        self.revision_day = next(
            (n.day - timedelta(days=REVISED_DAYS_BEFORE) for n in nights if "revision" in n.events),
            None,
        )
        self.revised_from = next((n.day for n in nights if "revision" in n.events), None)
        self._server: GovukServer | None = None
        self._port = 0

    # -- the figures ---------------------------------------------------------------------
    @cached_property
    def _real(self) -> dict[date, tuple[int, int, Any]]:
        from forecasting.sources.release import read_release, released_on_from_name

        newest = GovukServer(self.shared).releases[-1]
        frame = read_release(newest, today=released_on_from_name(newest.name)).daily
        return {
            r.date: (int(r.migrants_arrived), int(r.boats_arrived), _uncontrolled(r))
            for r in frame.itertuples(index=False)
        }

    def figures(self, day: date, *, published_on: date) -> tuple[int, int, Any]:
        """(migrants, boats, boats in uncontrolled landings) of `day` as published that day."""
        if day in self._real:
            migrants, boats, uncontrolled = self._real[day]
        else:
            _, migrants, boats, uncontrolled, _ = daily_rows(day, start=day)[1]
        if day == self.revision_day and self.revised_from and published_on >= self.revised_from:
            migrants, boats = migrants + REVISION[0], boats + REVISION[1]
        return migrants, boats, uncontrolled

    def truth(self, through: date, published_on: date) -> dict[date, int]:
        """Migrants arrived each day from 2018 to `through`, as GOV.UK had them on that day."""
        days = (through - date(2018, 1, 1)).days + 1
        return {
            d: self.figures(d, published_on=published_on)[0]
            for d in (date(2018, 1, 1) + timedelta(days=i) for i in range(days))
        }

    # -- what is served --------------------------------------------------------------------
    @staticmethod
    def release_day(day: date) -> date:
        """The Friday of the release current on `day` (that day, or the last before it)."""
        return day - timedelta(days=(day.weekday() - FRIDAY) % 7)

    def release(self, day: date) -> Path:
        """The weekly release GOV.UK lists on `day` (written on first use)."""
        released = self.release_day(day)
        reissued = any("reissue" in n.events and released < n.day <= day for n in self.nights)
        name = release_name(released).replace(".ods", "_v2.ods" if reissued else ".ods")
        path = self.folder / "releases" / name
        if not path.exists():
            rows: list[list[Any]] = [list(SB01_HEADER)]
            day_ = date(2018, 1, 1)
            while day_ < released:
                rows.append([day_, *self.figures(day_, published_on=released), ""])
                day_ += timedelta(days=1)
            weekly = weekly_rows(rows)
            if reissued:  # the reissue corrects SB_02's boats in uncontrolled landings
                weekly = _uncontrolled_weeks(rows, weekly)
            write_release(path.parent, released, daily=rows, weekly=weekly, name=name)
        return path

    def page(self, night: Night) -> Path:
        """The "last 7 days" page GOV.UK serves on the night's day (written on first use)."""
        shape = next((e for e in night.events if e.startswith("glitch_")), "normal")
        path = self.folder / "pages" / f"{night.day.isoformat()}-{shape}.html"
        if not path.exists():
            days = [night.day - timedelta(days=k) for k in range(7, 0, -1)]
            rows = [[_long(d), *self.figures(d, published_on=night.day)] for d in days]
            updated = datetime.combine(night.day, time(13, 0), LONDON)
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(page_html(self._template, rows, updated, shape), encoding="utf-8")
        return path

    @cached_property
    def _template(self) -> str:
        return GovukServer(self.shared).pages[-1].read_text(encoding="utf-8")

    @contextmanager
    def serving(self) -> Iterator[GovukCalendar]:
        """Own the local GOV.UK's port for the whole run (stopped on unreachable nights)."""
        try:
            yield self
        finally:
            self._stop()

    @property
    def url(self) -> str:
        if not self._port:
            self._up()
        return f"http://127.0.0.1:{self._port}"

    def publish(self, night: Night) -> None:
        """Serve what GOV.UK had on the night's day, or nothing at all (connection refused)."""
        if not night.reachable:
            self._stop()
            return
        server = self._server or self._up()
        server.use_release(self.release(night.day))
        server.use_page(self.page(night))

    def _up(self) -> GovukServer:
        self._server = GovukServer(self.shared).start(port=self._port)
        self._port = int(self._server.url.rsplit(":", 1)[1])
        return self._server

    def _stop(self) -> None:
        if self._server is not None:
            self._server.stop()
            self._server = None


def _uncontrolled(row: Any) -> Any:
    value = row.boats_uncontrolled
    return "-" if value is None or value != value else int(value)


def _uncontrolled_weeks(daily: list[list[Any]], weekly: list[list[Any]]) -> list[list[Any]]:
    """SB_02 with each week's boats in uncontrolled landings summed from its days."""
    sums: dict[date, int] = {}
    for day, _, _, uncontrolled, _ in daily[1:]:
        end = day + timedelta(days=6 - day.weekday())
        sums[end] = sums.get(end, 0) + (uncontrolled if isinstance(uncontrolled, int) else 0)
    return [weekly[0], *([r[0], r[1], r[2], sums[r[0]], *r[4:]] for r in weekly[1:])]


def _long(day: date) -> str:
    return f"{day.day} {day:%B %Y}"


def page_html(template: str, rows: list[list[Any]], updated: datetime, shape: str) -> str:
    """A real capture with its table, its embedded copy and its stamps replaced.

    `shape`: "normal" (GOV.UK's HTML table), "glitch_header" (the header row as markdown text
    with a `|–|–|` line, in a paragraph above a header-less table) or "glitch_markdown" (the
    whole table as markdown text in one paragraph, rows `|# 28 March 2026 | 0 | 0 | 0 | |`,
    with the next heading run into it: `###For users of these statistics`).
    """
    body = "\n".join(
        "    <tr>\n" + f'      <th scope="row">{r[0]}</th>\n'
        + "".join(f"      <td>{c}</td>\n" for c in r[1:]) + "      <td> </td>\n    </tr>"
        for r in rows
    )  # fmt: skip
    head = "".join(f'      <th scope="col">{h}</th>\n' for h in HEADER)
    rule = "|" + "–|" * len(HEADER)
    heading = '<h3 id="for-users-of-these-statistics">For users of these statistics</h3>'
    html = template
    start, end = html.index("<table>"), html.index("</table>") + len("</table>")
    if shape == "normal":
        table = f"<table>\n  <thead>\n    <tr>\n{head}    </tr>\n  </thead>\n  <tbody>\n{body}\n"
        table += "  </tbody>\n</table>"
    elif shape == "glitch_header":
        table = f"<p>| {' | '.join(HEADER)} |\n{rule}</p>\n\n<table>\n  <tbody>\n{body}\n"
        table += "  </tbody>\n</table>"
    elif shape == "glitch_markdown":
        lines = [f"| {' | '.join(HEADER)} |", rule]
        lines += [f"|# {r[0]} | {r[1]} | {r[2]} | {r[3]} | |" for r in rows]
        table = "<p>" + "\n".join(lines) + "\n###For users of these statistics</p>"
        end = html.index(heading, end) + len(heading)
    else:
        raise ValueError(f"unknown page shape {shape!r}")
    html = html[:start] + table + html[end:]
    html = _embedded(html, table)
    stamp = updated.isoformat(timespec="seconds")
    for name in ("govuk:updated-at", "govuk:public-updated-at"):
        html = re.sub(rf'(name="{name}" content=")[^"]+', rf"\g<1>{stamp}", html)
    return html


def _embedded(html: str, table: str) -> str:
    """The page's JSON-LD keeps a copy of the body: give it the same table."""
    opened, closed = r"\u003ctable\u003e", r"\u003c/table\u003e"
    start = html.find(opened)
    if start < 0:
        return html
    end = html.index(closed, start) + len(closed)
    escaped = json.dumps(table)[1:-1].replace("<", r"\u003c").replace(">", r"\u003e")
    return html[:start] + escaped + html[end:]
