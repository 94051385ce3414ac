"""The store's tables as numbered migrations: each a small step from one version to the next.

A store file records the version it is at (`store_info`, key `schema_version`); opening it applies
the missing steps in order, in one transaction (`schema.ensure_schema`). Never edit a migration
that has shipped: add the next one. Views are not migrations: they are rebuilt from `views.py`
whenever the version changes or one is missing.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import duckdb

__all__ = ["Migration", "MIGRATIONS", "LATEST_VERSION", "BACKTEST_TABLES"]

BACKTEST_TABLES = ("backtest_scores", "backtest_year_end", "backtest_forecasts")


@dataclass(frozen=True)
class Migration:
    """One step: `apply` takes the store from `version - 1` to `version`."""

    version: int
    name: str
    apply: Callable[[duckdb.DuckDBPyConnection], object]  # what it returns is ignored


def _sql(text: str) -> Callable[[duckdb.DuckDBPyConnection], object]:
    return lambda con: con.execute(text)


# 1: the schema as first shipped (every statement idempotent, so a store made before versions
# were numbered takes this step as a no-op).
INITIAL = """
CREATE SEQUENCE IF NOT EXISTS publication_id_seq START 1;

CREATE TABLE IF NOT EXISTS publications (
    publication_id  INTEGER PRIMARY KEY DEFAULT nextval('publication_id_seq'),
    sha256          VARCHAR NOT NULL UNIQUE,
    kind            VARCHAR NOT NULL,
    file_name       VARCHAR NOT NULL,
    source          VARCHAR NOT NULL,
    released_on     DATE,
    published_at    TIMESTAMPTZ,
    data_from       DATE NOT NULL,
    data_through    DATE NOT NULL,
    daily_rows      INTEGER NOT NULL,
    weekly_rows     INTEGER NOT NULL,
    url             VARCHAR,
    discovered_via  VARCHAR,
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
    boats_uncontrolled  INTEGER,
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
    migrants_prevented  INTEGER,
    events_prevented    INTEGER,
    PRIMARY KEY (publication_id, week_ending)
);

CREATE TABLE IF NOT EXISTS forecasts (
    as_of               DATE NOT NULL,
    model               VARCHAR NOT NULL,
    production          BOOLEAN NOT NULL,
    data_through        DATE,
    publications        VARCHAR,
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
    week_ending  DATE NOT NULL,
    mean         DOUBLE NOT NULL,
    p10          DOUBLE NOT NULL,
    p50          DOUBLE NOT NULL,
    p90          DOUBLE NOT NULL,
    PRIMARY KEY (as_of, model, week_ending)
);
"""

# 2: provenance and review. `version` is the reissue number (`_v2` -> 2); `status` is 'official'
# or 'held' (a release that rewrites history waits for `accept_publication`).
PROVENANCE = r"""
ALTER TABLE publications ADD COLUMN IF NOT EXISTS repairs VARCHAR[] DEFAULT [];
ALTER TABLE publications ADD COLUMN IF NOT EXISTS version INTEGER DEFAULT 1;
ALTER TABLE publications ADD COLUMN IF NOT EXISTS status VARCHAR DEFAULT 'official';
ALTER TABLE publications ADD COLUMN IF NOT EXISTS held_reason VARCHAR;
ALTER TABLE publications ADD COLUMN IF NOT EXISTS accepted_at TIMESTAMPTZ;
UPDATE publications SET
    repairs = coalesce(repairs, []),
    status = coalesce(status, 'official'),
    version = coalesce(
        TRY_CAST(nullif(regexp_extract(file_name, '_v(\d+)\.[A-Za-z0-9]+$', 1), '') AS INTEGER),
        1);
"""

# 3: forecasts in the long shape of forecasting.frames (runs + year_end -> forecasts, weekly ->
# forecast_weeks, milestones -> forecast_milestones); the publications read become a list.
FORECAST_FRAMES = """
ALTER TABLE forecasts ALTER publications TYPE VARCHAR[]
    USING CASE WHEN publications IS NULL OR publications = '' THEN NULL
               ELSE string_split(publications, ',') END;
ALTER TABLE forecasts ADD COLUMN IF NOT EXISTS horizon_weeks INTEGER;
ALTER TABLE forecasts ADD COLUMN IF NOT EXISTS level_implied DOUBLE;
ALTER TABLE forecasts ADD COLUMN IF NOT EXISTS level_trailing DOUBLE;
ALTER TABLE forecasts ADD COLUMN IF NOT EXISTS calibration VARCHAR;
ALTER TABLE forecast_weeks ADD COLUMN IF NOT EXISTS horizon INTEGER;
ALTER TABLE forecast_weeks ADD COLUMN IF NOT EXISTS days_observed INTEGER;
ALTER TABLE forecast_weeks ADD COLUMN IF NOT EXISTS observed DOUBLE;
CREATE TABLE IF NOT EXISTS forecast_milestones (
    as_of        DATE NOT NULL,
    model        VARCHAR NOT NULL,
    year         INTEGER NOT NULL,
    kind         VARCHAR NOT NULL,      -- 'year_total', 'record' or 'round'
    label        VARCHAR,
    threshold    DOUBLE NOT NULL,
    probability  DOUBLE NOT NULL,
    date_p10     DATE,
    date_p50     DATE,
    date_p90     DATE
);
"""

# 4: what the operations helper has already told people (so an alert is sent once).
ANNOUNCEMENTS = """
CREATE TABLE IF NOT EXISTS announcements (
    key           VARCHAR PRIMARY KEY,
    kind          VARCHAR NOT NULL,
    message       VARCHAR NOT NULL,
    announced_at  TIMESTAMPTZ NOT NULL
);
"""

# 8: the past years' errors each forecast's year-end range was spread like (forecasting.frames).
REMAINING_YEAR_ERRORS = """
ALTER TABLE forecasts ADD COLUMN IF NOT EXISTS remaining_year_errors JSON;
"""

BACKTEST_RUNS = """
CREATE TABLE IF NOT EXISTS backtest_runs (
    run_id         INTEGER PRIMARY KEY,
    run_start      DATE,
    run_end        DATE,
    run_every      VARCHAR,
    horizon_weeks  INTEGER,
    settings       JSON,
    created_at     TIMESTAMPTZ NOT NULL
);
"""


def _backtest_runs(con: duckdb.DuckDBPyConnection) -> None:
    """5: backtest runs get an id; runs stored before are numbered by their created_at."""
    con.execute(BACKTEST_RUNS)
    present = {
        name
        for (name,) in con.execute(
            "SELECT table_name FROM duckdb_tables() WHERE table_name IN ?", [list(BACKTEST_TABLES)]
        ).fetchall()
    }
    if not present:
        return
    old = " UNION ".join(
        f"SELECT DISTINCT run_start, run_end, run_every, horizon_weeks, created_at FROM {t}"
        for t in sorted(present)
    )
    con.execute(
        f"""
        INSERT INTO backtest_runs (run_id, run_start, run_end, run_every, horizon_weeks,
                                   created_at)
        SELECT row_number() OVER (ORDER BY created_at, run_start, run_end), *
        FROM ({old}) WHERE created_at IS NOT NULL
        """
    )
    for table in sorted(present):
        con.execute(f"ALTER TABLE {table} ADD COLUMN IF NOT EXISTS run_id INTEGER")
        con.execute(
            f"UPDATE {table} t SET run_id = r.run_id FROM backtest_runs r "
            "WHERE r.created_at = t.created_at"
        )


def _backtests_as_frames(con: duckdb.DuckDBPyConnection) -> None:
    """6: backtest rows in the long frames' shape (keyed by as_of, not origin). The old rows
    are results the protocol recomputes from the vintages in seconds: dropped, not converted;
    their runs stay listed in backtest_runs."""
    old = con.execute(
        "SELECT DISTINCT table_name FROM duckdb_columns() "
        "WHERE table_name IN ? AND column_name = 'origin'",
        [list(BACKTEST_TABLES)],
    ).fetchall()
    for (table,) in old:
        con.execute(f"DROP TABLE {table}")


# 7: the quarterly detailed dataset (Irr_D01). Its releases are publications with a vintage,
# but in their own table, so no query over `publications` (the last day with figures,
# staleness, the publications a forecast reads) can ever count them as weekly figures. Their ids
# come from the same sequence, so a publication_id names one publication in either table.
QUARTERLY = """
CREATE TABLE IF NOT EXISTS quarterly_publications (
    publication_id  INTEGER PRIMARY KEY DEFAULT nextval('publication_id_seq'),
    sha256          VARCHAR NOT NULL UNIQUE,
    kind            VARCHAR NOT NULL,      -- 'quarterly_detailed'
    file_name       VARCHAR NOT NULL,
    source          VARCHAR NOT NULL,
    sheet           VARCHAR NOT NULL,
    published_on    DATE,                  -- the vintage; NULL when unknown
    vintage_source  VARCHAR NOT NULL,      -- 'govuk_metadata', 'cover_sheet' or 'unknown'
    data_from       DATE NOT NULL,
    data_through    DATE NOT NULL,         -- the last quarter's last day
    value_rows      INTEGER NOT NULL,
    url             VARCHAR,
    discovered_via  VARCHAR,
    http_status     INTEGER,
    etag            VARCHAR,
    last_modified   VARCHAR,
    fetched_at      TIMESTAMPTZ,
    ingested_at     TIMESTAMPTZ NOT NULL,
    status          VARCHAR NOT NULL DEFAULT 'official'
);

CREATE TABLE IF NOT EXISTS quarterly_values (
    publication_id            INTEGER NOT NULL,
    year                      INTEGER NOT NULL,
    quarter                   INTEGER NOT NULL,
    method_of_entry           VARCHAR NOT NULL,
    nationality               VARCHAR NOT NULL,
    region                    VARCHAR NOT NULL,
    sex                       VARCHAR NOT NULL,
    age_group                 VARCHAR NOT NULL,
    nationality_as_published  VARCHAR NOT NULL,
    region_as_published       VARCHAR NOT NULL,
    sex_as_published          VARCHAR NOT NULL,
    age_group_as_published    VARCHAR NOT NULL,
    detections                BIGINT NOT NULL,
    sheet_row                 INTEGER NOT NULL
);
"""

MIGRATIONS: list[Migration] = [
    Migration(1, "initial schema", _sql(INITIAL)),
    Migration(2, "publication provenance and review status", _sql(PROVENANCE)),
    Migration(3, "forecasts in the long frames' shape", _sql(FORECAST_FRAMES)),
    Migration(4, "announcements", _sql(ANNOUNCEMENTS)),
    Migration(5, "backtest run ids", _backtest_runs),
    Migration(6, "backtest rows in the long shape", _backtests_as_frames),
    Migration(7, "the quarterly detailed dataset", _sql(QUARTERLY)),
    Migration(8, "the past misses behind each year-end range", _sql(REMAINING_YEAR_ERRORS)),
]
LATEST_VERSION = MIGRATIONS[-1].version
