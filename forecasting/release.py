"""Moved to `forecasting.sources` (release, archive, cells, checks); this thin shim stays only
because the store (forecasting/store, being split by another change) still imports `Release`
from here. New code imports from `forecasting.sources.*`; delete this once nothing does.
"""

from forecasting.errors import BadInput
from forecasting.sources.archive import MAX_SHEET_CELLS, MAX_UNCOMPRESSED_BYTES, read_capped
from forecasting.sources.cells import MAX_COUNT
from forecasting.sources.checks import check_daily, london_today
from forecasting.sources.release import (
    FIRST_DAY,
    MAX_ODS_BYTES,
    Release,
    parse_release_bytes,
    read_release,
    released_on_from_name,
)

__all__ = [
    "BadInput",
    "Release",
    "FIRST_DAY",
    "MAX_ODS_BYTES",
    "MAX_UNCOMPRESSED_BYTES",
    "MAX_SHEET_CELLS",
    "MAX_COUNT",
    "read_release",
    "read_capped",
    "parse_release_bytes",
    "released_on_from_name",
    "check_daily",
    "london_today",
]
