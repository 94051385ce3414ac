"""Alerts are remembered, so a condition is announced once."""

from __future__ import annotations

from pathlib import Path

from forecasting import store


def test_an_announcement_is_recorded_once(db_path: Path) -> None:
    assert not store.was_announced(db_path, "stale:2026-02-26")
    assert not db_path.exists()  # asking does not create a store
    assert store.record_announcement(db_path, "stale:2026-02-26", "stale", "figures are 9 days old")
    assert store.was_announced(db_path, "stale:2026-02-26")
    assert not store.record_announcement(db_path, "stale:2026-02-26", "stale", "again")
    held = store.read_frame(db_path, "SELECT kind, message FROM announcements")
    assert held.values.tolist() == [["stale", "figures are 9 days old"]]
    assert not store.was_announced(db_path, "stale:2026-03-05")
