"""The store's tables and views: the public interface analysts query (docs/store.md)."""

from __future__ import annotations

import hashlib

import duckdb

__all__ = ["SCHEMA", "SCHEMA_VERSION", "ensure_schema"]

SCHEMA = """
CREATE SEQUENCE IF NOT EXISTS publication_id_seq START 1;

CREATE TABLE IF NOT EXISTS publications (
    publication_id  INTEGER PRIMARY KEY DEFAULT nextval('publication_id_seq'),
    sha256          VARCHAR NOT NULL UNIQUE,
    kind            VARCHAR NOT NULL,      -- 'weekly_release' (ODS) or 'last_7_days' (HTML page)
    file_name       VARCHAR NOT NULL,
    source          VARCHAR NOT NULL,      -- the path or URL it was read from
    released_on     DATE,                  -- from the file name, where it has one
    published_at    TIMESTAMPTZ,           -- the page's govuk:updated-at
    data_from       DATE NOT NULL,
    data_through    DATE NOT NULL,
    daily_rows      INTEGER NOT NULL,
    weekly_rows     INTEGER NOT NULL,
    url             VARCHAR,
    discovered_via  VARCHAR,               -- 'content_api', 'publication_page', 'file', ...
    http_status     INTEGER,
    etag            VARCHAR,
    last_modified   VARCHAR,
    fetched_at      TIMESTAMPTZ,
    ingested_at     TIMESTAMPTZ NOT NULL
);

CREATE TABLE IF NOT EXISTS daily_values (
    publication_id      INTEGER NOT NULL,
    date                DATE NOT NULL,
    migrants_arrived    INTEGER NOT NULL,
    boats_arrived       INTEGER NOT NULL,
    boats_uncontrolled  INTEGER,           -- NULL where the Home Office shows "-"
    revised             BOOLEAN NOT NULL,
    note                VARCHAR,
    PRIMARY KEY (publication_id, date)
);

CREATE TABLE IF NOT EXISTS weekly_values (
    publication_id      INTEGER NOT NULL,
    week_ending         DATE NOT NULL,
    migrants_arrived    INTEGER NOT NULL,
    boats_arrived       INTEGER NOT NULL,
    boats_uncontrolled  INTEGER,
    migrants_prevented  INTEGER,           -- French operational estimates; NULL before May 2024
    events_prevented    INTEGER,
    PRIMARY KEY (publication_id, week_ending)
);

CREATE TABLE IF NOT EXISTS forecasts (
    as_of               DATE NOT NULL,
    model               VARCHAR NOT NULL,
    production          BOOLEAN NOT NULL,  -- the model whose figures are published
    data_through        DATE,
    publications        VARCHAR,           -- sha256 of the publications read, comma-separated
    as_of_rule          VARCHAR,
    year                INTEGER NOT NULL,
    observed_ytd        BIGINT NOT NULL,
    year_end_mean       DOUBLE NOT NULL,
    year_end_p10        DOUBLE NOT NULL,
    year_end_p50        DOUBLE NOT NULL,
    year_end_p90        DOUBLE NOT NULL,
    prob_exceeds        JSON,
    created_at          TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (as_of, model)
);

CREATE TABLE IF NOT EXISTS forecast_weeks (
    as_of        DATE NOT NULL,
    model        VARCHAR NOT NULL,
    week_ending  DATE NOT NULL,
    mean         DOUBLE NOT NULL,
    p10          DOUBLE NOT NULL,
    p50          DOUBLE NOT NULL,
    p90          DOUBLE NOT NULL,
    PRIMARY KEY (as_of, model, week_ending)
);

CREATE TABLE IF NOT EXISTS forecast_cumulative (
    as_of        DATE NOT NULL,
    model        VARCHAR NOT NULL,
    week_ending  DATE NOT NULL,            -- the last row of a year is 31 December itself
    mean         DOUBLE NOT NULL,          -- cumulative year-to-date total, over sample paths
    p10          DOUBLE NOT NULL,
    p50          DOUBLE NOT NULL,
    p90          DOUBLE NOT NULL,
    PRIMARY KEY (as_of, model, week_ending)
);

-- Newest first: the publication whose data runs latest; on a tie the weekly release (the
-- official series) over the daily page; then the later one published.
CREATE OR REPLACE VIEW publication_order AS
SELECT publication_id,
       row_number() OVER (ORDER BY data_through DESC, (kind = 'weekly_release') DESC,
                          coalesce(published_at, released_on::TIMESTAMPTZ, ingested_at) DESC,
                          publication_id DESC) AS recency
FROM publications;

CREATE OR REPLACE VIEW daily_arrivals AS
SELECT v.date, v.migrants_arrived, v.boats_arrived, v.boats_uncontrolled, v.revised, v.note,
       p.file_name AS publication, p.publication_id
FROM daily_values v
JOIN publications p USING (publication_id)
JOIN publication_order o USING (publication_id)
QUALIFY row_number() OVER (PARTITION BY v.date ORDER BY o.recency) = 1
ORDER BY v.date;

CREATE OR REPLACE VIEW weekly_activity AS
SELECT v.week_ending, v.migrants_arrived, v.boats_arrived, v.boats_uncontrolled,
       v.migrants_prevented, v.events_prevented, p.file_name AS publication
FROM weekly_values v
JOIN publications p USING (publication_id)
JOIN publication_order o USING (publication_id)
QUALIFY row_number() OVER (PARTITION BY v.week_ending ORDER BY o.recency) = 1
ORDER BY v.week_ending;

CREATE OR REPLACE VIEW revisions AS
WITH ordered AS (
    SELECT v.date, p.file_name, o.recency, v.migrants_arrived, v.boats_arrived,
           lag(v.migrants_arrived) OVER w AS previous_migrants_arrived,
           lag(v.boats_arrived) OVER w AS previous_boats_arrived,
           lag(p.file_name) OVER w AS previous_publication
    FROM daily_values v
    JOIN publications p USING (publication_id)
    JOIN publication_order o USING (publication_id)
    WINDOW w AS (PARTITION BY v.date ORDER BY o.recency DESC)
)
SELECT date, previous_publication, file_name AS publication,
       previous_migrants_arrived, migrants_arrived,
       migrants_arrived - previous_migrants_arrived AS migrants_change,
       previous_boats_arrived, boats_arrived
FROM ordered
WHERE previous_publication IS NOT NULL
  AND (migrants_arrived <> previous_migrants_arrived OR boats_arrived <> previous_boats_arrived)
ORDER BY date, publication;
"""


SCHEMA_VERSION = hashlib.sha256(SCHEMA.encode()).hexdigest()[:16]


def ensure_schema(con: duckdb.DuckDBPyConnection) -> None:
    """Create or update tables and views, once per schema version (it costs ~20 ms an open)."""
    try:
        row = con.execute("SELECT value FROM store_info WHERE key = 'schema'").fetchone()
    except duckdb.CatalogException:
        row = None
    if row and row[0] == SCHEMA_VERSION:
        return
    con.execute(SCHEMA)
    con.execute("CREATE TABLE IF NOT EXISTS store_info (key VARCHAR PRIMARY KEY, value VARCHAR)")
    con.execute("INSERT OR REPLACE INTO store_info VALUES ('schema', ?)", [SCHEMA_VERSION])
