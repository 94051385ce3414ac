"""Bringing a store file to the current schema: numbered migrations, then the views.

`store_info` holds the integer `schema_version` of the file. Opening a store checks that version
and that every expected table and view exists (a check by name, not a stored hash, so a view an
analyst dropped is noticed); missing steps are applied and views rebuilt in one transaction.
A missing table is damage (its rows are gone) and is reported, never silently recreated empty.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

import duckdb

from forecasting.errors import StoreError
from forecasting.store.migrations import LATEST_VERSION, MIGRATIONS
from forecasting.store.transaction import transaction
from forecasting.store.views import VIEWS

__all__ = ["SCHEMA_VERSION", "TABLES", "SchemaState", "schema_state", "ensure_schema"]

SCHEMA_VERSION = LATEST_VERSION
# Views change without a migration (they hold no data): a changed definition is noticed by this.
VIEWS_HASH = hashlib.sha256("".join(VIEWS.values()).encode()).hexdigest()[:16]

# Tables every store at the current version has (backtest result tables appear on first use).
TABLES = (
    "store_info",
    "publications",
    "daily_values",
    "weekly_values",
    "forecasts",
    "forecast_weeks",
    "forecast_cumulative",
    "forecast_milestones",
    "announcements",
    "backtest_runs",
    "quarterly_publications",
    "quarterly_values",
)


@dataclass(frozen=True)
class SchemaState:
    """What a store file holds: its schema version (0: never versioned) and what is missing."""

    version: int
    missing_tables: tuple[str, ...]
    missing_views: tuple[str, ...]
    views_hash: str | None = None

    @property
    def current(self) -> bool:
        return (
            self.version == SCHEMA_VERSION
            and self.views_hash == VIEWS_HASH
            and not self.missing_tables
            and not self.missing_views
        )


def schema_state(con: duckdb.DuckDBPyConnection) -> SchemaState:
    """The file's version and missing tables and views: two catalog queries, about 1 ms."""
    present = dict(
        con.execute(
            "SELECT table_name, 'BASE TABLE' FROM duckdb_tables() WHERE schema_name = 'main' "
            "UNION ALL SELECT view_name, 'VIEW' FROM duckdb_views() "
            "WHERE NOT internal AND schema_name = 'main'"
        ).fetchall()
    )
    info: dict[str, str] = {}
    if "store_info" in present:
        info = dict(con.execute("SELECT key, value FROM store_info").fetchall())
    return SchemaState(
        int(info.get("schema_version", 0)),
        tuple(t for t in TABLES if present.get(t) != "BASE TABLE"),
        tuple(v for v in VIEWS if present.get(v) != "VIEW"),
        info.get("views"),
    )


def ensure_schema(con: duckdb.DuckDBPyConnection, name: str = "the store") -> SchemaState:
    """Apply the missing migrations and rebuild the views, in one transaction; a no-op when
    the file is current. Raises StoreError for a file from newer code or a missing table."""
    state = schema_state(con)
    if state.current:
        return state
    if state.version > SCHEMA_VERSION:
        raise StoreError(
            f"{name}: schema version {state.version} is newer than this code's "
            f"{SCHEMA_VERSION}; upgrade the pipeline to use it"
        )
    if state.version == SCHEMA_VERSION and state.missing_tables:
        raise StoreError(
            f"{name}: table(s) {', '.join(state.missing_tables)} are missing, so the store is "
            "damaged; restore it from a copy (nothing was changed)"
        )
    with transaction(con):
        for migration in MIGRATIONS:
            if migration.version > state.version:
                migration.apply(con)
        for statement in VIEWS.values():
            con.execute(statement)
        con.execute(
            "CREATE TABLE IF NOT EXISTS store_info (key VARCHAR PRIMARY KEY, value VARCHAR)"
        )
        con.execute("DELETE FROM store_info WHERE key IN ('schema', 'schema_version', 'views')")
        con.execute(
            "INSERT INTO store_info VALUES ('schema_version', ?), ('views', ?)",
            [str(SCHEMA_VERSION), VIEWS_HASH],
        )
    return schema_state(con)
