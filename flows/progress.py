"""Progress bars for the long commands (backtests, backfills): rich, on the terminal's stderr."""

from __future__ import annotations

from flows.log_file import terminal

__all__ = ["ProgressBar", "progress_bar"]


class ProgressBar:
    """A rich progress bar on stderr, driven by (done, total, what) calls."""

    def __init__(self, label: str) -> None:
        from rich.console import Console
        from rich.progress import (
            BarColumn,
            MofNCompleteColumn,
            Progress,
            TextColumn,
            TimeElapsedColumn,
            TimeRemainingColumn,
        )

        self._progress = Progress(
            TextColumn(f"[bold]{label}"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            TimeRemainingColumn(),
            TextColumn("{task.description}"),
            console=Console(file=terminal()[1]),
            transient=False,
        )
        self._task = self._progress.add_task("", total=None)

    def __enter__(self) -> ProgressBar:
        self._progress.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._progress.stop()

    def __call__(self, done: int, total: int, what: str) -> None:
        self._progress.update(self._task, completed=done, total=total, description=what)


def progress_bar(label: str) -> ProgressBar:
    """A bar for long work (backtests, backfills), so a user sees it moving."""
    return ProgressBar(label)
