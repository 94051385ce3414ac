"""Releases that rewrite history are held back for an analyst, not silently made official.

A publication that changes a past complete year's total of migrants arrived by more than
`HISTORY_CHANGE_THRESHOLD` (3%), or zeroes a year's migrants or boats, against the official
publication before it, is stored as a vintage with `status = 'held'`: it stays out of the
official series (`daily_arrivals`, `weekly_activity`), of as-of reads and so of forecasts, until
`accept_publication` makes it official. The 14 real releases of November 2025 to February 2026
revise no past year's total at all (their only revision is one week's boats in uncontrolled
landings), so 3% catches a mistake or a change of method, not the routine revision of a few
days (a 40-migrant correction moves a 30,000 year by 0.13%).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import duckdb

from forecasting.errors import BadInput
from forecasting.store.connection import open_store, retry_on_lock
from forecasting.store.transaction import transaction

__all__ = ["HISTORY_CHANGE_THRESHOLD", "Acceptance", "history_change", "accept_publication"]

HISTORY_CHANGE_THRESHOLD = 0.03

# Whole calendar years in each publication (pages, 7 days long, never have one), and for the
# publication asked about, the official publication before it holding the same whole year.
_YEAR_CHANGES = """
WITH years AS (
    SELECT v.publication_id, year(v.date) AS year, sum(v.migrants_arrived) AS migrants,
           sum(v.boats_arrived) AS boats
    FROM daily_values v JOIN publications p USING (publication_id)
    WHERE p.daily_rows >= 365 AND (p.status = 'official' OR p.publication_id = $id)
    GROUP BY ALL
    HAVING count(*) = date_diff('day', make_date(year(min(v.date)), 1, 1),
                                make_date(year(min(v.date)) + 1, 1, 1))
),
placed AS (
    SELECT y.*, o.sequence, p.file_name
    FROM years y JOIN publication_order o USING (publication_id) JOIN publications p
    USING (publication_id)
),
mine AS (SELECT * FROM placed WHERE publication_id = $id),
prior AS (
    SELECT p.* FROM placed p, mine m
    WHERE p.year = m.year AND p.sequence < m.sequence
    QUALIFY row_number() OVER (PARTITION BY p.year ORDER BY p.sequence DESC) = 1
)
SELECT m.year, p.file_name, p.migrants, m.migrants, p.boats, m.boats
FROM mine m JOIN prior p USING (year)
ORDER BY m.year
"""


def history_change(con: duckdb.DuckDBPyConnection, publication_id: int) -> str | None:
    """Why this publication rewrites history (None when it does not), in one phrase."""
    changes = []
    rows = con.execute(_YEAR_CHANGES, {"id": publication_id}).fetchall()
    for year, previous_name, before, after, boats_before, boats_after in rows:
        if before and not after or boats_before and not boats_after:
            what = "migrants" if before and not after else "boats"
            changes.append(f"zeroes {year}'s {what} (was {previous_name})")
        elif before and abs(after - before) / before > HISTORY_CHANGE_THRESHOLD:
            changes.append(
                f"revises {year}'s total from {before:,} to {after:,} "
                f"({(after - before) / before:+.1%}) against {previous_name}"
            )
    return "; ".join(changes) or None


@dataclass(frozen=True)
class Acceptance:
    """What `accept_publication` did."""

    file_name: str
    sha256: str
    was_held: bool
    also_official: list[str]  # later held publications that no longer change history

    def describe(self) -> str:
        if not self.was_held:
            return f"{self.file_name}: already official (sha256 {self.sha256[:12]})"
        also = (
            f"; now official too, as they agree with it: {', '.join(self.also_official)}"
            if self.also_official
            else ""
        )
        return (
            f"{self.file_name}: accepted (sha256 {self.sha256[:12]}), now part of the official "
            f"series{also}"
        )


def accept_publication(db_path: str | Path, publication: str) -> Acceptance:
    """Make a held publication official (by sha256, its first 8+ characters, its file name or
    a path to the file).

    Held publications after it are checked again against it: those it explains (they carry the
    same revised history) become official too, in the same transaction.
    """

    def accept() -> Acceptance:
        with open_store(db_path) as con:
            pid, name, sha, status = _find(con, db_path, publication)
            if status == "official":
                return Acceptance(name, sha, False, [])
            also: list[str] = []
            with transaction(con):
                _set_official(con, pid)
                later = con.execute(
                    """
                    SELECT p.publication_id, p.file_name FROM publications p
                    JOIN publication_order o USING (publication_id)
                    WHERE p.status = 'held' ORDER BY o.sequence
                    """
                ).fetchall()
                for other, other_name in later:
                    if history_change(con, other) is None:
                        _set_official(con, other)
                        also.append(other_name)
            return Acceptance(name, sha, True, also)

    return retry_on_lock(accept)


def _set_official(con: duckdb.DuckDBPyConnection, publication_id: int) -> None:
    con.execute(
        "UPDATE publications SET status = 'official', accepted_at = ? WHERE publication_id = ?",
        [datetime.now(UTC), publication_id],
    )


def _find(
    con: duckdb.DuckDBPyConnection, db_path: str | Path, ref: str
) -> tuple[int, str, str, str]:
    ref = ref.strip()
    rows = con.execute(
        """
        SELECT publication_id, file_name, sha256, status FROM publications
        WHERE sha256 = lower($ref) OR file_name IN ($ref, $name)
           OR (length($ref) >= 8 AND starts_with(sha256, lower($ref)))
        ORDER BY publication_id
        """,
        {"ref": ref, "name": Path(ref).name},  # a path to the file names it too
    ).fetchall()
    if not rows:
        raise BadInput(ref, f"no publication with that sha256 or file name in {db_path}")
    if len(rows) > 1:
        shas = ", ".join(r[2][:12] for r in rows)
        raise BadInput(ref, f"matches {len(rows)} publications ({shas}); give the sha256")
    return rows[0]
