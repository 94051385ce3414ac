"""The failures a person or a scheduler must tell apart, each carrying its exit status.

Every command ends with one of the `ExitStatus` values; an expected failure is one of the classes
below, matched with `isinstance` (never by class name), and its `str()` is the one line printed.
Anything else is a bug and exits `FAILED`.
"""

from __future__ import annotations

from enum import IntEnum
from pathlib import Path

__all__ = [
    "ExitStatus",
    "CrossingsError",
    "BadInput",
    "BadArgument",
    "SourceUnavailable",
    "StoreBusy",
    "StoreError",
    "ReportError",
    "one_line",
]


class ExitStatus(IntEnum):
    """What a command's exit status tells its caller (documented in the README)."""

    OK = 0  # done, with fresh figures
    FAILED = 1  # an unexpected error: nothing was written
    BAD_INPUT = 2  # a bad argument or file: nothing changed
    SOURCE_UNUSABLE = 3  # GOV.UK could not be reached or sent something unusable
    STORE_BUSY = 4  # another process held the store for too long
    REPORT_FAILED = 5  # figures stored, but the report could not be written
    STALE = 10  # the report was written, but a source failed or the figures are stale


def one_line(text: object, limit: int = 400, *, escape_spacing: bool = False) -> str:
    """Any text as one printable line that cannot drive a terminal.

    Line breaks and other spacing become single spaces (or, with `escape_spacing`, for file
    names, are shown escaped like every other control character), and characters that cannot be
    printed are shown escaped (`\\x1b`, `\\u202e`): a hostile name stays visible and harmless.
    A byte that was not valid UTF-8 (a surrogate escape from the file system) shows as `\\xff`.
    """
    shown = []
    for ch in str(text):
        if ch.isprintable():
            shown.append(ch)
        elif ch.isspace() and not escape_spacing:
            shown.append(" ")
        else:
            shown.append(_escaped(ch))
    flat = " ".join("".join(shown).split())
    return flat if len(flat) <= limit else flat[: limit - 3] + "..."


_NAMED_ESCAPES = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}


def _escaped(ch: str) -> str:
    if ch in _NAMED_ESCAPES:
        return _NAMED_ESCAPES[ch]
    code = ord(ch)
    if 0xDC80 <= code <= 0xDCFF:  # os.fsdecode's stand-in for an undecodable byte
        return f"\\x{code - 0xDC00:02x}"
    if code < 0x100:
        return f"\\x{code:02x}"
    return f"\\u{code:04x}" if code < 0x10000 else f"\\U{code:08x}"


class CrossingsError(Exception):
    """An expected failure: `str()` is the one line printed, `exit_status` what the caller sees."""

    exit_status: ExitStatus = ExitStatus.FAILED


class BadInput(CrossingsError):
    """A file or argument that fails a check; nothing was changed."""

    exit_status = ExitStatus.BAD_INPUT

    def __init__(self, source: str | Path, problem: str) -> None:
        self.source = str(source)
        self.problem = one_line(problem)
        name = Path(self.source).name or self.source
        super().__init__(f"{one_line(name, escape_spacing=True)}: {self.problem}")


class BadArgument(BadInput, ValueError):
    """A command's argument out of bounds: BadInput (exit 2) to a command, a ValueError to
    Python code that already expects one."""


class SourceUnavailable(CrossingsError):  # noqa: N818 - named for what the reader needs
    """GOV.UK could not be reached or sent something unusable; the store is unchanged."""

    exit_status = ExitStatus.SOURCE_UNUSABLE

    def __init__(self, source: str, problem: str, *, hint: str = "") -> None:
        self.source = str(source)
        self.problem = one_line(problem)
        self.hint = hint
        line = f"{one_line(self.source, escape_spacing=True)}: {self.problem}"
        super().__init__(f"{line}; {hint}" if hint else line)


class StoreBusy(CrossingsError):
    """Another process held the store's lock for longer than we were willing to wait."""

    exit_status = ExitStatus.STORE_BUSY


class StoreError(CrossingsError):
    """The store cannot be used as it is (disk full, damaged schema); nothing was changed."""

    exit_status = ExitStatus.FAILED


class ReportError(CrossingsError):
    """The report could not be written; the last good report is left in place."""

    exit_status = ExitStatus.REPORT_FAILED
