"""The DuckDB store: every publication and every value it published (vintages), read as of any date.

Analysts query this file directly, so its tables and views are a public interface (docs/store.md):

- `publications`: one row per distinct file (by sha256) with its provenance.
- `daily_values`, `weekly_values`: every value of every publication (the vintages).
- `daily_arrivals`, `weekly_activity`: the latest known value of each day / week.
- `revisions`: each time a later publication changed a published day.
- `forecasts`, `forecast_weeks`: forecasts keyed by (as_of, model).
- `backtest_scores`, `backtest_year_end`: rolling-origin evaluations.

All SQL lives in this package: `connection` (open, lock waits), `schema` (tables and views),
`publications` (ingest), `reads` (as-of reads), `forecasts`, `tables` (generic result tables).
"""

from forecasting.errors import StoreBusy
from forecasting.store.connection import DEFAULT_DB, default_db_path, open_store, retry_on_lock
from forecasting.store.forecasts import ForecastRecord, save_forecast_records, save_forecasts
from forecasting.store.payload import read_forecast_payload
from forecasting.store.publications import IngestOutcome, held_publications, ingest
from forecasting.store.reads import AsOfRead, latest_daily, read_as_of
from forecasting.store.tables import read_frame, save_frame, save_frames

__all__ = [
    "DEFAULT_DB",
    "AsOfRead",
    "IngestOutcome",
    "StoreBusy",
    "default_db_path",
    "open_store",
    "retry_on_lock",
    "ingest",
    "held_publications",
    "read_as_of",
    "latest_daily",
    "ForecastRecord",
    "save_forecasts",
    "save_forecast_records",
    "read_forecast_payload",
    "save_frame",
    "save_frames",
    "read_frame",
]
