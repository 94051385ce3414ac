"""The DuckDB store: every publication and every value it published (vintages), read as of any date.

Analysts query this file directly, so its tables and views are a public interface
(docs/store.md). All SQL lives in this package:

- `connection`: opening the file, waiting out other processes' locks, disk-full errors.
- `migrations`, `views`, `schema`: numbered migrations, the views, bringing a file up to date.
- `publications`, `review`: storing a publication; holding back history-changing releases.
- `reads`: the figures as known on a date.
- `quarterly`, `quarterly_views`: the quarterly detailed dataset (who crosses), apart from
  the weekly figures.
- `forecasts`, `forecast_frames`: forecasts held and written.
- `backtests`, `announcements`, `export`, `tables`: backtest runs, alerts already sent, Parquet
  export, generic result tables.
"""

from forecasting.errors import StoreBusy, StoreError
from forecasting.store.announcements import record_announcement, was_announced
from forecasting.store.backtests import (
    read_year_end_backtest,
    save_backtest,
    save_year_end_backtest,
)
from forecasting.store.connection import DEFAULT_DB, default_db_path, open_store, retry_on_lock
from forecasting.store.export import Export, export_views
from forecasting.store.forecast_frames import read_forecast_frames, save_forecast_frames
from forecasting.store.forecasts import (
    HeldIf,
    forecasts_held,
    held_forecasts,
    production_year_end,
)
from forecasting.store.publications import (
    IngestOutcome,
    held_publications,
    ingest,
    ingest_all,
)
from forecasting.store.quarterly import (
    QuarterlyOutcome,
    ingest_quarterly,
    quarterly_as_of,
    quarterly_ledger,
    quarterly_publications,
    quarterly_reconciliation,
    quarterly_vintages,
)
from forecasting.store.reads import (
    AsOfRead,
    last_official_day,
    latest_daily,
    publication_data_throughs,
    read_as_of,
)
from forecasting.store.review import HISTORY_CHANGE_THRESHOLD, Acceptance, accept_publication
from forecasting.store.schema import SCHEMA_VERSION
from forecasting.store.tables import read_frame, save_frame, save_frames

__all__ = [
    "DEFAULT_DB",
    "SCHEMA_VERSION",
    "HISTORY_CHANGE_THRESHOLD",
    "AsOfRead",
    "Acceptance",
    "IngestOutcome",
    "StoreBusy",
    "StoreError",
    "default_db_path",
    "open_store",
    "retry_on_lock",
    "ingest",
    "ingest_all",
    "held_publications",
    "accept_publication",
    "read_as_of",
    "latest_daily",
    "last_official_day",
    "publication_data_throughs",
    "HeldIf",
    "forecasts_held",
    "held_forecasts",
    "production_year_end",
    "save_forecast_frames",
    "read_forecast_frames",
    "save_backtest",
    "save_year_end_backtest",
    "read_year_end_backtest",
    "was_announced",
    "record_announcement",
    "Export",
    "export_views",
    "save_frame",
    "save_frames",
    "read_frame",
    "QuarterlyOutcome",
    "ingest_quarterly",
    "quarterly_as_of",
    "quarterly_ledger",
    "quarterly_publications",
    "quarterly_reconciliation",
    "quarterly_vintages",
]
