"""Deciding what a run should announce: new figures, records, a quiet source, failures, revisions.

Nightly runs are for people who are not watching, so a run tells them what changed. Given the
store and the run's facts (what it stored, what failed), `compute_alerts` lists every alert that
applies; each has a stable key (`new:<sha256>`, `record:day:<date>`, `quiet:page:<date>`, ...) so
`forecasting.notify` can send each one once. Nothing here sends or writes anything.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import cast

import pandas as pd

from forecasting.alert_headline import daily_series
from forecasting.calendar import long_date
from forecasting.freshness import freshness
from forecasting.settings import Settings
from forecasting.store import alert_reads as store_alerts

__all__ = [
    "Alert",
    "RunFacts",
    "SEVERITY",
    "compute_alerts",
    "record_alerts",
    "quiet_alerts",
    "quarterly_alerts",
]

# How serious each kind is: the message takes the most serious of its alerts.
SEVERITY: dict[str, str] = {
    "failed": "failure",
    "source": "failure",
    "quiet": "warning",
    "older": "warning",
    "stamp": "warning",
    "revision": "warning",
    "held": "warning",
    "new": "info",
    "record": "info",
    "quarterly": "info",
}
SOURCE_NAMES = {"last_7_days": "page", "weekly_release": "release"}


@dataclass(frozen=True)
class Alert:
    """One piece of news; `key` makes sure it is announced once."""

    key: str
    kind: str  # a key of SEVERITY
    title: str  # a few words for the message's title
    body: str  # one or two sentences with the figures


@dataclass(frozen=True)
class RunFacts:
    """What the run knows that the store does not: what it stored and what went wrong."""

    stored: tuple[str, ...] = ()  # sha256 of the publications this run stored
    source_failures: tuple[str, ...] = ()  # one line each: a source that failed (report written)
    failure: str | None = None  # the run itself failed: why
    run_id: str | None = None  # the flow run, so each failed run is announced once
    today: date | None = None  # London's date (default: today)
    store_readable: bool = True  # False when the run failed because the store could not be used


def _stamp(value: object) -> str:
    """A stored timestamp as "28 February 2026 09:20 UTC"."""
    moment = pd.Timestamp(value)
    moment = moment.tz_localize("UTC") if moment.tzinfo is None else moment.tz_convert("UTC")
    return f"{moment:%d %B %Y %H:%M} UTC"


def _as_date(value: object) -> date | None:
    if value is None or value is pd.NaT or (not isinstance(value, date) and pd.isna(value)):
        return None
    return cast("date | None", pd.Timestamp(value).date())


def _stored_date(value: object) -> date:
    """A date read from a NOT NULL column (publications.data_through, forecasts.as_of)."""
    day = _as_date(value)
    assert day is not None, "read from a NOT NULL column"
    return day


def compute_alerts(
    db: str | Path, facts: RunFacts, settings: Settings | None = None
) -> list[Alert]:
    """Every alert that applies after this run (announced or not; the caller filters)."""
    from forecasting.calendar import london_today
    from forecasting.store import latest_daily

    settings = settings or Settings()
    today = facts.today or london_today()
    alerts = _failure_alerts(facts, today)
    if not facts.store_readable or not Path(db).exists():
        return alerts
    runs = store_alerts.run_publications(db, facts.stored)
    alerts += _publication_alerts(runs)
    previous = store_alerts.previous_data_through(db, facts.stored) if facts.stored else None
    if previous is not None:
        alerts += record_alerts(latest_daily(db).daily, _as_date(previous))
    alerts += _revision_alerts(db, facts.stored, runs, settings.revision_alert_pct)
    alerts += _held_alerts(db)
    alerts += quarterly_alerts(db)
    alerts += quiet_alerts(store_alerts.source_freshness(db), today, settings)
    return alerts


def quarterly_alerts(db: str | Path) -> list[Alert]:
    """The newest official quarterly release (who crosses), announced once by its sha256."""
    from forecasting.store import quarterly_publications

    held = quarterly_publications(db)
    if held.empty:
        return []
    newest = held.iloc[0]
    through = _stored_date(newest["data_through"])
    published = _as_date(newest["published_on"])
    when = f", published {long_date(published)}" if published else ""
    quarter = f"{through.year} Q{(through.month - 1) // 3 + 1}"
    return [
        Alert(
            f"quarterly:{newest['sha256']}",
            "quarterly",
            f"new official quarterly figures to {quarter}",
            f"New official quarterly figures (nationality, age, sex) to the end of {quarter}"
            f"{when} ({newest['file_name']}); the report's 'Who is crossing' section uses them.",
        )
    ]


def _failure_alerts(facts: RunFacts, today: date) -> list[Alert]:
    alerts = []
    if facts.failure:
        key = f"failed:{facts.run_id or today.isoformat()}"
        alerts.append(
            Alert(
                key,
                "failed",
                "the run failed",
                f"The run failed: {facts.failure}. The last good figures and report are kept.",
            )
        )
    if facts.source_failures:
        alerts.append(
            Alert(
                f"source:{today.isoformat()}",
                "source",
                "a source failed",
                "A source failed, so the report was written from the figures held: "
                + "; ".join(facts.source_failures),
            )
        )
    return alerts


def _publication_alerts(runs: pd.DataFrame) -> list[Alert]:
    """New figures; or an older publication served after a newer one; or a stamp that stuck."""
    alerts = []
    for row in runs.itertuples(index=False):
        if row.held:  # held back for review: not the figures yet (see _held_alerts)
            continue
        through = _stored_date(row.data_through)
        previous_through = _as_date(row.previous_through)
        stamp, previous_stamp = row.published_at, row.previous_published_at
        has_stamps = not pd.isna(stamp) and not pd.isna(previous_stamp)
        what = "page" if row.kind == "last_7_days" else "release"
        if (previous_through and through < previous_through) or (
            has_stamps and stamp < previous_stamp
        ):
            alerts.append(
                Alert(
                    f"older:{row.sha256}",
                    "older",
                    f"an older {what} was served",
                    f"GOV.UK served an older {what} ({row.file_name}, figures to "
                    f"{long_date(through)}) after a newer one (figures to "
                    f"{long_date(previous_through or through)}); "
                    "it is kept as history and the latest figures are unchanged.",
                )
            )
            continue
        if row.kind == "last_7_days" and not pd.isna(stamp):
            source = f"the last-7-days page updated {_stamp(stamp)}"
        else:
            source = f"the {'weekly release' if what == 'release' else 'last-7-days page'}"
        alerts.append(
            Alert(
                f"new:{row.sha256}",
                "new",
                f"new figures to {long_date(through)}",
                f"New figures: {source} brings the figures to {long_date(through)} "
                f"({row.file_name}).",
            )
        )
        if has_stamps and stamp == previous_stamp:
            alerts.append(
                Alert(
                    f"stamp:{row.sha256}",
                    "stamp",
                    "the page's updated stamp did not move",
                    f"The page's figures changed but its 'updated' stamp stayed at "
                    f"{_stamp(stamp)}: check the page by hand.",
                )
            )
    return alerts


def record_alerts(daily: pd.DataFrame, previous_through: date | None) -> list[Alert]:
    """Records set by the days after `previous_through`: the most on a day, week, month, or the
    highest year-to-date total for the date (announced when the year takes the lead).

    Each period is compared with every earlier one in the latest figures; a week or month still
    in progress that already beats them all counts (its key keeps it from being sent again).
    With no earlier figures (`previous_through` None) nothing is a record: a first load is news
    enough.
    """
    if daily.empty or previous_through is None:
        return []
    series = daily_series(daily)
    last_day = series.index[-1]
    if last_day <= pd.Timestamp(previous_through):
        return []
    alerts: list[Alert] = []
    for freq, word in (("D", "day"), ("W-SUN", "week"), ("M", "month")):
        totals = series.groupby(series.index.to_period(freq)).sum()
        first_new = (pd.Timestamp(previous_through) + pd.Timedelta(days=1)).to_period(freq)
        for period in totals.index[totals.index >= first_new]:
            earlier = totals[totals.index < period]
            if earlier.empty or totals[period] <= earlier.max():
                continue
            best = earlier.idxmax()
            alerts.append(
                _record(word, period, int(totals[period]), best, int(earlier.max()), last_day)
            )
    alerts += _ytd_record(daily, previous_through)
    return alerts


def _period_words(word: str, period: pd.Period) -> tuple[str, str]:
    """(key part, "on/in <when>") for a day, a week (by its Sunday) or a month."""
    if word == "day":
        return period.start_time.date().isoformat(), f"on {long_date(period.start_time.date())}"
    if word == "week":
        sunday = period.end_time.date()
        return sunday.isoformat(), f"in the week ending {long_date(sunday)}"
    return f"{period.year}-{period.month:02d}", f"in {period.start_time:%B %Y}"


def _record(
    word: str,
    period: pd.Period,
    total: int,
    best: pd.Period,
    best_total: int,
    last_day: pd.Timestamp,
) -> Alert:
    key_part, when = _period_words(word, period)
    _, best_when = _period_words(word, best)
    so_far = " so far" if period.end_time.normalize() > last_day else ""
    on_any = "on any day" if word == "day" else f"in any {word}"
    return Alert(
        f"record:{word}:{key_part}",
        "record",
        f"record {word}",
        f"Record {word}: {total:,} people crossed {when}{so_far}, the most {on_any} since "
        f"records began (previous highest: {best_total:,} {best_when}).",
    )


def _ytd_record(daily: pd.DataFrame, previous_through: date) -> list[Alert]:
    from forecasting.ytd import year_to_date

    last = daily["date"].iloc[-1]

    def leads(as_of: date) -> tuple[bool, pd.DataFrame]:
        table = year_to_date(daily, as_of).table
        this, earlier = table.iloc[-1], table.iloc[:-1]
        return (not earlier.empty and this.migrants_arrived > earlier.migrants_arrived.max()), table

    now_leads, table = leads(last)
    if not now_leads:
        return []
    if previous_through.year == last.year and leads(previous_through)[0]:
        return []  # it already led: no record falls today
    earlier = table.iloc[:-1].sort_values("migrants_arrived").iloc[-1]
    total = int(table.iloc[-1].migrants_arrived)
    return [
        Alert(
            f"record:ytd:{last.isoformat()}",
            "record",
            "highest year to date",
            f"Record year to date: {total:,} people crossed in {last.year} up to "
            f"{last.day} {last:%B}, the highest for the date since records began (previous "
            f"highest: {int(earlier.migrants_arrived):,} in {int(earlier.year)}).",
        )
    ]


def quiet_alerts(sources: pd.DataFrame, today: date, settings: Settings) -> list[Alert]:
    """A source that has published nothing new for longer than its threshold."""
    limits = {
        "last_7_days": settings.quiet_page_days,
        "weekly_release": settings.quiet_release_days,
    }
    alerts = []
    for row in sources.itertuples(index=False):
        limit = limits.get(row.kind)
        last = _as_date(row.last_published)
        if limit is None or last is None:
            continue
        judged = freshness(last, today, limit)  # the one staleness rule, on the source's date
        if not judged.stale:
            continue
        name = SOURCE_NAMES[row.kind]
        what = "daily last-7-days page" if name == "page" else "weekly release"
        stamp = "'updated' stamp" if name == "page" else "release date"
        through = _as_date(row.data_through)  # None: only held-back ones of this kind
        figures = f"; its figures run to {long_date(through)}" if through else ""
        alerts.append(
            Alert(
                f"quiet:{name}:{last.isoformat()}",
                "quiet",
                f"no new {what} for {judged.age_days} days",
                f"The source has gone quiet: the newest {what} held has the {stamp} "
                f"{long_date(last)}, {judged.age_days} days ago (alert after {limit}){figures}.",
            )
        )
    return alerts


def _revision_alerts(
    db: str | Path, stored: tuple[str, ...], runs: pd.DataFrame, pct: float
) -> list[Alert]:
    changes = store_alerts.year_total_changes(db, stored, pct)
    if changes.empty:
        return []
    latest = runs.sort_values("is_latest", ascending=False).iloc[0]
    years = "; ".join(
        f"{int(r.year)}: {int(r.before):,} to {int(r.after):,} ({r.change_pct:+.1f}%)"
        for r in changes.itertuples(index=False)
    )
    return [
        Alert(
            f"revision:{latest.sha256}",
            "revision",
            "history revised",
            f"{latest.file_name} revises past years' totals by more than {pct:g}%: {years}.",
        )
    ]


def _held_alerts(db: str | Path) -> list[Alert]:
    held = store_alerts.held_back_publications(db)
    return [
        Alert(
            f"held:{row.sha256}",
            "held",
            "a release is held for review",
            f"{row.file_name} (figures to {long_date(_stored_date(row.data_through))}) is held "
            f"back (status '{row.status}') until an analyst accepts it"
            + (f": it {row.reason}." if isinstance(row.reason, str) and row.reason else "."),
        )
        for row in held.itertuples(index=False)
    ]
