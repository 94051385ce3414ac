"""The store's views: the official series, the order of publications, and the revisions ledger.

Views hold no data, so they are not migrations: `schema.ensure_schema` rebuilds all of them when
the schema version changes or one is missing (an analyst may drop one by mistake).

Two orders of publications:
- chronology (`publication_order.sequence`, oldest first): the order they were published in, by
  the day their data runs to; on a tie the daily page before the weekly release (the official
  series) of the same day, then by publication time, then the reissue number (`_v2` after the
  original), then the order of ingest. The ledger of revisions follows it.
- recency (`publication_order.recency`, 1 = gives the latest figures): chronology reversed, but
  publications outside the official series last: those held back for review, and originals
  superseded by an official reissue (`_v2`) of the same release, whatever the order of ingest.
"""

from __future__ import annotations

from forecasting.store.quarterly_views import (
    QUARTERLY_DETECTIONS,
    QUARTERLY_ORDER,
    QUARTERLY_RECONCILIATION,
    QUARTERLY_VINTAGES,
)

__all__ = ["VIEWS", "SUPERSEDED", "LEDGER_SERIES"]

# A publication is superseded when an official reissue of the same release (same kind and
# release date, higher version) is held. `{scope}` restricts the candidate reissues (e.g. to
# those known by a date), so read_as_of and the views share this one rule.
SUPERSEDED = """EXISTS (
    SELECT 1 FROM publications r
    WHERE r.kind = p.kind AND r.released_on = p.released_on AND r.version > p.version
      AND r.status = 'official' AND {scope})"""

# series name -> (values table, period column, value column): every published series.
LEDGER_SERIES = {
    "daily_migrants_arrived": ("daily_values", "date", "migrants_arrived"),
    "daily_boats_arrived": ("daily_values", "date", "boats_arrived"),
    "daily_boats_uncontrolled": ("daily_values", "date", "boats_uncontrolled"),
    "weekly_migrants_arrived": ("weekly_values", "week_ending", "migrants_arrived"),
    "weekly_boats_arrived": ("weekly_values", "week_ending", "boats_arrived"),
    "weekly_boats_uncontrolled": ("weekly_values", "week_ending", "boats_uncontrolled"),
    "weekly_migrants_prevented": ("weekly_values", "week_ending", "migrants_prevented"),
    "weekly_events_prevented": ("weekly_values", "week_ending", "events_prevented"),
}

_VINTAGES = "\n    UNION ALL ".join(
    f"SELECT '{series}' AS series, {period} AS period, publication_id, {column}::BIGINT AS value "
    f"FROM {table}"
    for series, (table, period, column) in LEDGER_SERIES.items()
)

PUBLICATION_ORDER = f"""
CREATE OR REPLACE VIEW publication_order AS
WITH placed AS (
    SELECT p.publication_id, p.status,
           {SUPERSEDED.format(scope="TRUE")} AS superseded,
           row_number() OVER (ORDER BY p.data_through, (p.kind = 'weekly_release'),
                              coalesce(p.published_at, p.released_on::TIMESTAMPTZ, p.ingested_at),
                              p.version, p.publication_id) AS sequence
    FROM publications p
)
SELECT publication_id, sequence, superseded,
       status = 'official' AND NOT superseded AS in_series,
       row_number() OVER (ORDER BY status = 'official' AND NOT superseded DESC,
                          sequence DESC) AS recency
FROM placed
"""

DAILY_ARRIVALS = """
CREATE OR REPLACE VIEW daily_arrivals AS
SELECT v.date, v.migrants_arrived, v.boats_arrived, v.boats_uncontrolled, v.revised, v.note,
       p.file_name AS publication, p.publication_id, p.sha256
FROM daily_values v
JOIN publications p USING (publication_id)
JOIN publication_order o USING (publication_id)
WHERE o.in_series
QUALIFY row_number() OVER (PARTITION BY v.date ORDER BY o.recency) = 1
ORDER BY v.date
"""

WEEKLY_ACTIVITY = """
CREATE OR REPLACE VIEW weekly_activity AS
SELECT v.week_ending, v.migrants_arrived, v.boats_arrived, v.boats_uncontrolled,
       v.migrants_prevented, v.events_prevented, p.file_name AS publication, p.publication_id,
       p.sha256
FROM weekly_values v
JOIN publications p USING (publication_id)
JOIN publication_order o USING (publication_id)
WHERE o.in_series
QUALIFY row_number() OVER (PARTITION BY v.week_ending ORDER BY o.recency) = 1
ORDER BY v.week_ending
"""

# Each vintage of a value beside the official value before it (in its publications' chronology).
_CHAINED = """
    SELECT v.series, v.period, v.value, v.publication_id, p.file_name, p.sha256, p.status,
           o.sequence,
           last_value(CASE WHEN p.status = 'official'
                      THEN {{'value': v.value, 'publication_id': v.publication_id}} END
                      IGNORE NULLS) OVER (
               PARTITION BY v.series, v.period ORDER BY o.sequence
               ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING) AS previous
    FROM {vintages} v
    JOIN {publications} p USING (publication_id)
    JOIN {order} o USING (publication_id)"""

_WEEKLY_CHAIN = _CHAINED.format(
    vintages="vintages", publications="publications", order="publication_order"
)
_QUARTERLY_CHAIN = _CHAINED.format(
    vintages=f"({QUARTERLY_VINTAGES})",
    publications="quarterly_publications",
    order="quarterly_order",
)

# One row per change of a published value: each publication's value against the value in the
# official publication before it (in chronology). Held publications are compared the same way
# and marked `status = 'held'`; the chain itself runs through official publications only.
REVISION_LEDGER = f"""
CREATE OR REPLACE VIEW revision_ledger AS
WITH vintages AS (
    {_VINTAGES}
),
chained AS (
    {_WEEKLY_CHAIN}
    UNION ALL
    {_QUARTERLY_CHAIN}
),
named AS (
    SELECT publication_id, file_name, sha256 FROM publications
    UNION ALL SELECT publication_id, file_name, sha256 FROM quarterly_publications
)
SELECT c.series, c.period, q.file_name AS previous_publication, c.file_name AS publication,
       c.previous.value AS previous_value, c.value, c.value - c.previous.value AS change,
       c.status, q.sha256 AS previous_sha256, c.sha256,
       c.previous.publication_id AS previous_publication_id, c.publication_id
FROM chained c
JOIN named q ON q.publication_id = c.previous.publication_id
WHERE c.value IS DISTINCT FROM c.previous.value
ORDER BY c.series, c.period, c.sequence
"""

# The daily figures' revisions in the shape analysts and the report have used from the start:
# each official publication against the official one before it.
REVISIONS = """
CREATE OR REPLACE VIEW revisions AS
WITH ordered AS (
    SELECT v.date, p.file_name, p.sha256, v.publication_id, v.migrants_arrived, v.boats_arrived,
           lag(v.migrants_arrived) OVER w AS previous_migrants_arrived,
           lag(v.boats_arrived) OVER w AS previous_boats_arrived,
           lag(p.file_name) OVER w AS previous_publication,
           lag(p.sha256) OVER w AS previous_sha256,
           lag(v.publication_id) OVER w AS previous_publication_id
    FROM daily_values v
    JOIN publications p USING (publication_id)
    JOIN publication_order o USING (publication_id)
    WHERE p.status = 'official'
    WINDOW w AS (PARTITION BY v.date ORDER BY o.sequence)
)
SELECT date, previous_publication, file_name AS publication,
       previous_migrants_arrived, migrants_arrived,
       migrants_arrived - previous_migrants_arrived AS migrants_change,
       previous_boats_arrived, boats_arrived,
       previous_sha256, sha256, previous_publication_id, publication_id
FROM ordered
WHERE previous_publication_id IS NOT NULL
  AND (migrants_arrived <> previous_migrants_arrived OR boats_arrived <> previous_boats_arrived)
ORDER BY date, publication
"""

DAILY_AS_FIRST_PUBLISHED = """
CREATE OR REPLACE VIEW daily_as_first_published AS
WITH first AS (
    SELECT v.date, v.migrants_arrived, v.boats_arrived, p.file_name, p.sha256
    FROM daily_values v
    JOIN publications p USING (publication_id)
    JOIN publication_order o USING (publication_id)
    WHERE p.status = 'official'
    QUALIFY row_number() OVER (PARTITION BY v.date ORDER BY o.sequence) = 1
)
SELECT f.date,
       f.migrants_arrived AS first_migrants_arrived, a.migrants_arrived,
       a.migrants_arrived - f.migrants_arrived AS migrants_change,
       f.boats_arrived AS first_boats_arrived, a.boats_arrived,
       a.boats_arrived - f.boats_arrived AS boats_change,
       f.file_name AS first_publication, a.publication, f.sha256 AS first_sha256, a.sha256
FROM first f JOIN daily_arrivals a USING (date)
ORDER BY f.date
"""

# name -> statement, in dependency order.
VIEWS: dict[str, str] = {
    "publication_order": PUBLICATION_ORDER,
    "quarterly_order": QUARTERLY_ORDER,
    "daily_arrivals": DAILY_ARRIVALS,
    "weekly_activity": WEEKLY_ACTIVITY,
    "revision_ledger": REVISION_LEDGER,
    "revisions": REVISIONS,
    "daily_as_first_published": DAILY_AS_FIRST_PUBLISHED,
    "quarterly_detections": QUARTERLY_DETECTIONS,
    "quarterly_reconciliation": QUARTERLY_RECONCILIATION,
}
