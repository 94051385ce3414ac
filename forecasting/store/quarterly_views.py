"""The quarterly dataset's views: its releases in order, the official values, the reconciliation.

Releases are ordered by the last quarter they hold, then by their vintage (`published_on`):
a release whose vintage is unknown is placed by its period (`vintage_source = 'unknown'` says
so). The official value of a quarter comes whole from the newest official release holding that
quarter (never row by row: a breakdown a later release relabelled must not be counted twice).
"""

from __future__ import annotations

__all__ = [
    "SMALL_BOATS",
    "QUARTER_END",
    "QUARTERLY_ORDER",
    "QUARTERLY_DETECTIONS",
    "QUARTERLY_RECONCILIATION",
    "QUARTERLY_VINTAGES",
    "RECONCILIATION_FLAG_PCT",
]

# The method of entry the weekly series counts, matched however a release capitalises it.
SMALL_BOATS = "lower(method_of_entry) LIKE 'small boat%'"
QUARTER_END = "last_day(make_date(year, 3 * quarter, 1))"
# A quarter whose official and weekly totals differ by more than this is flagged.
RECONCILIATION_FLAG_PCT = 5.0

QUARTERLY_ORDER = """
CREATE OR REPLACE VIEW quarterly_order AS
SELECT publication_id,
       row_number() OVER (ORDER BY data_through, published_on NULLS FIRST, ingested_at,
                          publication_id) AS sequence,
       status = 'official' AS in_series,
       coalesce(published_on, data_through) AS known_from,
       row_number() OVER (ORDER BY status = 'official' DESC, data_through DESC,
                          published_on DESC NULLS LAST, ingested_at DESC,
                          publication_id DESC) AS recency
FROM quarterly_publications
"""

QUARTERLY_DETECTIONS = """
CREATE OR REPLACE VIEW quarterly_detections AS
WITH covering AS (
    SELECT DISTINCT v.year, v.quarter, v.publication_id, o.recency
    FROM quarterly_values v JOIN quarterly_order o USING (publication_id)
    WHERE o.in_series
),
chosen AS (
    SELECT year, quarter, publication_id FROM covering
    QUALIFY row_number() OVER (PARTITION BY year, quarter ORDER BY recency) = 1
)
SELECT v.year, v.quarter, v.method_of_entry, v.nationality, v.region, v.sex, v.age_group,
       sum(v.detections)::BIGINT AS detections, p.file_name AS publication, p.published_on,
       v.publication_id, p.sha256
FROM quarterly_values v
JOIN chosen USING (year, quarter, publication_id)
JOIN quarterly_publications p USING (publication_id)
GROUP BY ALL
ORDER BY year, quarter, method_of_entry, nationality, region, sex, age_group
"""

QUARTERLY_RECONCILIATION = f"""
CREATE OR REPLACE VIEW quarterly_reconciliation AS
WITH official AS (
    SELECT year, quarter, sum(detections)::BIGINT AS quarterly_small_boats,
           any_value(publication) AS quarterly_publication
    FROM quarterly_detections WHERE {SMALL_BOATS}
    GROUP BY ALL
),
weekly AS (
    SELECT year(date) AS year, quarter(date) AS quarter,
           sum(migrants_arrived)::BIGINT AS weekly_small_boats, count(*) AS days,
           arg_max(publication, date) AS weekly_publication
    FROM daily_arrivals GROUP BY ALL
)
SELECT o.year, o.quarter, o.quarterly_small_boats,
       w.weekly_small_boats, o.quarterly_small_boats - w.weekly_small_boats AS difference,
       round(100.0 * (o.quarterly_small_boats - w.weekly_small_boats)
             / nullif(w.weekly_small_boats, 0), 2) AS difference_pct,
       coalesce(abs(o.quarterly_small_boats - w.weekly_small_boats)
                > {RECONCILIATION_FLAG_PCT} / 100 * w.weekly_small_boats, FALSE) AS flagged,
       o.quarterly_publication, w.weekly_publication
FROM official o
LEFT JOIN weekly w
  ON w.year = o.year AND w.quarter = o.quarter
 AND w.days = datediff('day', make_date(o.year, 3 * o.quarter - 2, 1),
                       last_day(make_date(o.year, 3 * o.quarter, 1))) + 1
ORDER BY o.year, o.quarter
"""

# Each release's small-boat total per quarter: the ledger's series `quarterly_small_boat_arrivals`.
QUARTERLY_VINTAGES = f"""
        SELECT 'quarterly_small_boat_arrivals' AS series, {QUARTER_END} AS period,
               publication_id, sum(detections)::BIGINT AS value
        FROM quarterly_values WHERE {SMALL_BOATS} GROUP BY ALL"""
