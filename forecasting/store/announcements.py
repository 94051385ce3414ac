"""What has already been announced (alerts sent), so a condition is told once, not every night."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from forecasting.store.connection import open_store, retry_on_lock

__all__ = ["was_announced", "record_announcement"]


def was_announced(db_path: str | Path, key: str) -> bool:
    """Whether an announcement with this key has been recorded."""
    if not Path(db_path).exists():
        return False

    def read() -> bool:
        with open_store(db_path, read_only=True) as con:
            row = con.execute("SELECT 1 FROM announcements WHERE key = ?", [key]).fetchone()
            return row is not None

    return retry_on_lock(read)


def record_announcement(db_path: str | Path, key: str, kind: str, message: str) -> bool:
    """Record that `message` was announced under `key`; False when the key was already held
    (the first record stands)."""

    def write() -> bool:
        with open_store(db_path) as con:
            inserted = con.execute(
                "INSERT INTO announcements VALUES (?, ?, ?, ?) ON CONFLICT (key) DO NOTHING "
                "RETURNING key",
                [key, kind, message, datetime.now(UTC)],
            ).fetchall()
            return bool(inserted)

    return retry_on_lock(write)
