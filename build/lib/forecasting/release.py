"""Read one publication of the Home Office small-boats figures and check it before it can be stored.

A publication is either the weekly ODS "time series" release (sheets SB_01 and SB_02) or the daily
"last 7 days" HTML page (parsed in `forecasting.govuk`). Both become a `Release`: the daily figures,
and for the ODS the weekly ones, in the store's column names. Anything that fails a check raises
`BadInput`, whose message is one line naming the file and the problem.
"""

from __future__ import annotations

import hashlib
import io
import re
import stat
import struct
import zipfile
import zlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any
from xml.parsers import expat
from zoneinfo import ZoneInfo

import pandas as pd

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

FIRST_DAY = date(2018, 1, 1)
ODS_MIMETYPE = b"application/vnd.oasis.opendocument.spreadsheet"
# A real release is about 0.3 MB zipped and 2.3 MB unzipped; these caps leave room to grow for
# decades while refusing a zip bomb before any XML is parsed.
MAX_ODS_BYTES = 20 * 1024 * 1024
MAX_UNCOMPRESSED_BYTES = 64 * 1024 * 1024
# ODS repeats a cell with table:number-rows/columns-repeated, so a 1 kB content.xml can ask the
# spreadsheet reader for 100 million cells (gigabytes). A real SB_01 spans about 3,000 x 6 cells.
MAX_SHEET_CELLS = 2_000_000
# The busiest day on record is under 1,500 arrivals; anything near the store's INTEGER limit is
# a corrupt cell, not a count.
MAX_COUNT = 1_000_000

DAILY_COLUMNS = [
    "date",
    "migrants_arrived",
    "boats_arrived",
    "boats_uncontrolled",
    "revised",
    "note",
]
WEEKLY_COLUMNS = [
    "week_ending",
    "migrants_arrived",
    "boats_arrived",
    "boats_uncontrolled",
    "migrants_prevented",
    "events_prevented",
]

# Published header (normalised) -> store column. Several spellings seen on GOV.UK map to one name.
SB01_HEADERS = {
    "date": "date",
    "migrants arrived": "migrants_arrived",
    "boats arrived": "boats_arrived",
    "boats arrived - involved in uncontrolled landings": "boats_uncontrolled",
    "boats involved in uncontrolled landings": "boats_uncontrolled",
    "notes": "note",
}
SB02_HEADERS = {
    "week ending": "week_ending",
    "migrants arrived": "migrants_arrived",
    "boats arrived": "boats_arrived",
    "boats arrived - involved in uncontrolled landings": "boats_uncontrolled",
    "boats involved in uncontrolled landings": "boats_uncontrolled",
    "migrants prevented": "migrants_prevented",
    "events prevented": "events_prevented",
    "notes": "note",
}
# Counts that the Home Office marks "-" (not available) in some periods; NULL in the store.
MAY_BE_MISSING = {"boats_uncontrolled", "migrants_prevented", "events_prevented"}

RELEASE_NAME = re.compile(
    r"(?P<day>\d{1,2})_(?P<month>[A-Za-z]+)_(?P<year>\d{4})_Small_boats_-_time_series(?:_v\d+)?",
    re.IGNORECASE,
)


class BadInput(Exception):
    """A publication that fails a check; `str()` is the one line a person reads."""

    def __init__(self, source: str | Path, problem: str) -> None:
        self.source = str(source)
        self.problem = _one_line(problem)
        super().__init__(f"{_one_line(Path(self.source).name or self.source)}: {self.problem}")


def _one_line(text: str) -> str:
    """Control characters and line breaks (even in a file name) become spaces: one line, always."""
    return "".join(ch if ch.isprintable() else " " for ch in str(text))


@dataclass(frozen=True)
class Release:
    """One publication as parsed: what the store keeps of it, before it is stored."""

    kind: str  # "weekly_release" (the ODS) or "last_7_days" (the HTML page)
    file_name: str
    sha256: str
    daily: pd.DataFrame  # DAILY_COLUMNS, one row per day, sorted
    weekly: pd.DataFrame | None = None  # WEEKLY_COLUMNS for the ODS, None for the page
    released_on: date | None = None  # from the file name ("27_February_2026_...")
    published_at: datetime | None = None  # the page's govuk:updated-at
    provenance: dict[str, Any] = field(default_factory=dict)  # url, discovered_via, etag, ...

    @property
    def data_from(self) -> date:
        return self.daily["date"].iloc[0]

    @property
    def data_through(self) -> date:
        return self.daily["date"].iloc[-1]


def london_today() -> date:
    """Today in the Home Office's time zone: 'data in the future' is judged against this."""
    return datetime.now(ZoneInfo("Europe/London")).date()


def released_on_from_name(name: str) -> date | None:
    """The release date in a file name such as 27_February_2026_Small_boats_-_time_series."""
    match = RELEASE_NAME.search(name)
    if not match:
        return None
    try:
        return datetime.strptime(
            f"{match['day']} {match['month'].title()} {match['year']}", "%d %B %Y"
        ).date()
    except ValueError:
        return None


def read_release(path: str | Path, *, today: date | None = None) -> Release:
    """Read and check a weekly ODS release from disk."""
    path = Path(path)
    content = read_capped(path, MAX_ODS_BYTES, "a release")
    return parse_release_bytes(content, path.name, today=today)


def read_capped(path: Path, max_bytes: int, what: str) -> bytes:
    """A regular file's bytes, refused (BadInput) before reading when over `max_bytes`."""
    try:
        info = path.stat()
        if not stat.S_ISREG(info.st_mode):
            # A directory, FIFO or device (/dev/zero) would fail or never end when read.
            raise BadInput(path, "is not a regular file")
        if info.st_size > max_bytes:
            raise BadInput(
                path, f"is {info.st_size:,} bytes, over the {max_bytes:,}-byte limit for {what}"
            )
        with path.open("rb") as handle:
            content = handle.read(max_bytes + 1)  # the file may grow after stat()
    except OSError as exc:
        raise BadInput(path, f"cannot be read ({exc.strerror or exc})") from None
    if len(content) > max_bytes:
        raise BadInput(path, f"is over the {max_bytes:,}-byte limit for {what}")
    return content


def parse_release_bytes(content: bytes, file_name: str, *, today: date | None = None) -> Release:
    """Parse and check the bytes of a weekly ODS release; the file name gives its release date."""
    _check_ods_container(content, file_name)
    sheets = _read_sheets(content, file_name)
    daily = _parse_table(sheets, "SB_01", SB01_HEADERS, "date", file_name)
    weekly = _parse_table(sheets, "SB_02", SB02_HEADERS, "week_ending", file_name)
    daily = check_daily(daily, file_name, today=today, starts_on=FIRST_DAY)
    weekly = _check_weekly(weekly, file_name)
    return Release(
        kind="weekly_release",
        file_name=file_name,
        sha256=hashlib.sha256(content).hexdigest(),
        daily=daily,
        weekly=weekly,
        released_on=released_on_from_name(file_name),
    )


def _check_ods_container(content: bytes, name: str) -> None:
    """Refuse what is not a whole ODS, and a zip bomb, before any XML is parsed."""
    if not content:
        raise BadInput(name, "is empty (0 bytes), not an ODS spreadsheet")
    if len(content) > MAX_ODS_BYTES:
        raise BadInput(name, f"is over the {MAX_ODS_BYTES:,}-byte limit for a release")
    head = content[:512].lstrip().lower()
    if head.startswith((b"<!doctype html", b"<html", b"<?xml")) or b"<html" in head:
        raise BadInput(
            name, "is an HTML page, not an ODS spreadsheet (an error page saved as .ods?)"
        )
    if not content.startswith(b"PK\x03\x04"):
        raise BadInput(name, "is not an ODS spreadsheet (not a zip archive)")
    try:
        with zipfile.ZipFile(io.BytesIO(content)) as archive:
            names = archive.namelist()
            if "content.xml" not in names:
                raise BadInput(name, "is not an ODS spreadsheet (no content.xml inside)")
            if len(set(names)) != len(names):
                # Readers disagree on which of two same-named members they use: one checked
                # here could differ from the one parsed.
                raise BadInput(name, "is a damaged ODS file (a member name appears twice)")
            declared = sum(info.file_size for info in archive.infolist())
            if declared > MAX_UNCOMPRESSED_BYTES:
                raise BadInput(
                    name,
                    f"would unpack to {declared:,} bytes, over the {MAX_UNCOMPRESSED_BYTES:,}-byte "
                    "limit (a zip bomb?); refused before parsing",
                )
            if "mimetype" in names:
                with archive.open("mimetype") as stream:  # bounded: it may be a bomb itself
                    mimetype = stream.read(len(ODS_MIMETYPE) + 64)
                if mimetype.strip() != ODS_MIMETYPE:
                    raise BadInput(
                        name, "is a zip archive but not an ODS spreadsheet (wrong mimetype)"
                    )
            _scan_xml(content, archive.getinfo("content.xml"), name)
    except zipfile.BadZipFile as exc:
        raise BadInput(name, f"is a damaged or truncated ODS file ({_first_line(exc)})") from None
    except (EOFError, zlib.error, NotImplementedError, RuntimeError, ValueError) as exc:
        # NotImplementedError: unsupported compression; RuntimeError: encrypted member.
        raise BadInput(name, f"is a damaged or truncated ODS file ({_first_line(exc)})") from None


def _scan_xml(content: bytes, info: zipfile.ZipInfo, name: str) -> None:
    """Stream one member through expat before the spreadsheet reader sees it.

    Counts the real bytes (zip headers can lie), refuses any DTD or entity declaration (billion
    laughs, in any encoding), and bounds the cells each sheet would unpack to (repeat bombs).
    """
    member = info.filename
    tail = b""
    cells = _CellCounter(name, member)
    parser = expat.ParserCreate()
    parser.StartDoctypeDeclHandler = cells.refuse_dtd
    parser.EntityDeclHandler = cells.refuse_dtd
    parser.StartElementHandler = cells.start
    parser.EndElementHandler = cells.end
    parser.CharacterDataHandler = cells.text
    parser.buffer_text = True
    try:
        for chunk in _member_chunks(content, info, name):
            window = tail + chunk
            if b"<!DOCTYPE" in window or b"<!ENTITY" in window:
                cells.refuse_dtd()
            tail = chunk[-16:]
            parser.Parse(chunk, False)
        parser.Parse(b"", True)
    except expat.ExpatError as exc:
        raise BadInput(
            name,
            f"{member} is not well-formed XML ({expat.ErrorString(exc.code)}, line {exc.lineno})",
        ) from None


def _member_chunks(content: bytes, info: zipfile.ZipInfo, name: str) -> Iterator[bytes]:
    """Unpack one member ourselves, 1 MB at a time, checking it against its zip headers.

    zipfile stops at the declared size, so a member whose headers claim a small harmless file
    (CRC forged to match) passes its checks while the spreadsheet reader unpacks the whole bomb.
    Here the deflate stream must end exactly at the declared size, with the declared CRC.
    """
    member = info.filename
    if info.flag_bits & 0x1:
        raise BadInput(name, f"{member} is encrypted, which a release never is")
    if info.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED):
        raise BadInput(name, f"{member} uses zip compression method {info.compress_type}")
    at = info.header_offset
    if content[at : at + 4] != b"PK\x03\x04":
        raise BadInput(name, f"is a damaged ODS file (no local header for {member})")
    name_len, extra_len = struct.unpack_from("<HH", content, at + 26)
    start = at + 30 + name_len + extra_len
    packed = memoryview(content)[start : start + info.compress_size]
    if len(packed) != info.compress_size:
        raise BadInput(name, f"is a damaged or truncated ODS file ({member} is cut short)")
    step = 1 << 20
    inflate = zlib.decompressobj(-15) if info.compress_type == zipfile.ZIP_DEFLATED else None
    total, crc, pending = 0, 0, packed
    while True:
        if inflate is None:
            chunk, pending = bytes(pending[:step]), pending[step:]
        else:
            try:
                chunk = inflate.decompress(pending, step)
            except zlib.error as exc:
                raise BadInput(name, f"is a damaged ODS file ({member}: {exc})") from None
            pending = inflate.unconsumed_tail
        if not chunk:
            break
        total += len(chunk)
        if total > MAX_UNCOMPRESSED_BYTES:
            raise BadInput(
                name,
                f"{member} unpacks to over {MAX_UNCOMPRESSED_BYTES:,} bytes (a zip bomb?); "
                "refused before parsing",
            )
        if total > info.file_size:
            raise BadInput(
                name,
                f"{member} unpacks to more than the {info.file_size:,} bytes its zip header "
                "declares (a zip bomb?); refused before parsing",
            )
        crc = zlib.crc32(chunk, crc)
        yield chunk
    if (inflate is not None and not inflate.eof) or total != info.file_size:
        raise BadInput(name, f"is a damaged or truncated ODS file ({member} is cut short)")
    if crc != info.CRC:
        raise BadInput(name, f"is a damaged ODS file (bad CRC-32 for {member})")


class _CellCounter:
    """Tracks, per sheet, the rectangle of non-empty cells the spreadsheet reader would build."""

    TABLE = "table:table"
    ROW = "table:table-row"
    CELLS = ("table:table-cell", "table:covered-table-cell")
    ROWS_REPEATED = "table:number-rows-repeated"
    COLUMNS_REPEATED = "table:number-columns-repeated"

    def __init__(self, name: str, member: str) -> None:
        self.name, self.member = name, member
        self.sheet = ""
        self.depth = 0  # of table:table elements, so nested tables stay inside their cell
        self.row = self.col = 0
        self.rows_repeated = self.cols_repeated = 1
        self.max_row = self.max_col = -1
        self.in_cell = 0  # element depth inside the current cell
        self.filled = False

    def refuse_dtd(self, *_: Any) -> None:
        raise BadInput(
            self.name,
            f"{self.member} declares XML entities or a DTD, which a release never does; "
            "refused (entity expansion attack?)",
        )

    def _repeat(self, attrs: dict[str, str], key: str) -> int:
        text = attrs.get(key, "1")
        if not text.isascii() or not text.strip().isdigit():
            raise BadInput(self.name, f"{self.member} has {key}={text[:20]!r}, not a count")
        return int(text)

    def start(self, tag: str, attrs: dict[str, str]) -> None:
        if self.in_cell:
            self.in_cell += 1
            self.filled = True  # any content at all (text:p, even empty) may become a value
            return
        if tag == self.TABLE:
            self.depth += 1
            if self.depth == 1:
                self.sheet = attrs.get("table:name", "")[:40]
                self.row, self.max_row, self.max_col = 0, -1, -1
        elif self.depth == 1 and tag == self.ROW:
            self.rows_repeated = self._repeat(attrs, self.ROWS_REPEATED)
            self.col = 0
        elif self.depth == 1 and tag in self.CELLS:
            self.cols_repeated = self._repeat(attrs, self.COLUMNS_REPEATED)
            self.filled = "office:value-type" in attrs or "office:value" in attrs
            self.in_cell = 1

    def text(self, data: str) -> None:
        if self.in_cell and data.strip():
            self.filled = True

    def end(self, tag: str) -> None:
        if self.in_cell:
            self.in_cell -= 1
            if self.in_cell:
                return
            if self.filled:
                self.max_row = max(self.max_row, self.row + self.rows_repeated - 1)
                self.max_col = max(self.max_col, self.col + self.cols_repeated - 1)
                area = (self.max_row + 1) * (self.max_col + 1)
                if area > MAX_SHEET_CELLS:
                    raise BadInput(
                        self.name,
                        f"sheet {self.sheet!r} would unpack to over {MAX_SHEET_CELLS:,} cells "
                        "(repeated rows/columns: a spreadsheet bomb?); refused before parsing",
                    )
            self.col += self.cols_repeated
        elif tag == self.TABLE:
            self.depth -= 1
        elif self.depth == 1 and tag == self.ROW:
            self.row += self.rows_repeated


def _read_sheets(content: bytes, name: str) -> dict[str, list[list[Any]]]:
    from python_calamine import CalamineWorkbook

    try:
        workbook = CalamineWorkbook.from_filelike(io.BytesIO(content))
        wanted = {"sb_01", "sb_02"}
        return {
            sheet: workbook.get_sheet_by_name(sheet).to_python(skip_empty_area=False)
            for sheet in workbook.sheet_names
            if sheet.strip().lower() in wanted
        }
    except BadInput:
        raise
    except (KeyboardInterrupt, SystemExit):
        raise
    except BaseException as exc:  # calamine's errors, and a Rust panic (a BaseException)
        raise BadInput(name, f"could not be read as a spreadsheet ({_first_line(exc)})") from None


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return text[0][:200] if text else type(exc).__name__


def normalise_header(text: Any) -> str:
    """Trim, lower-case and unify dashes and spaces, so headers match however they are typed."""
    text = str(text or "").replace("\u2013", "-").replace("\u2014", "-").replace("\xa0", " ")
    text = re.sub(r"\s*-\s*", " - ", text.strip().lower())
    return re.sub(r"\s+", " ", text)


def _parse_table(
    sheets: dict[str, list[list[Any]]],
    sheet: str,
    headers: dict[str, str],
    key: str,
    name: str,
) -> pd.DataFrame:
    rows = next((r for s, r in sheets.items() if s.strip().lower() == sheet.lower()), None)
    if rows is None:
        raise BadInput(name, f"has no sheet {sheet}")
    key_header = next(h for h, col in headers.items() if col == key)
    header_at = next(
        (i for i, row in enumerate(rows[:50]) if row and normalise_header(row[0]) == key_header),
        None,
    )
    if header_at is None:
        header_at = next(
            (
                i
                for i, row in enumerate(rows[:50])
                if any(normalise_header(cell) == key_header for cell in row)
            ),
            None,
        )
    if header_at is None:
        raise BadInput(
            name, f"sheet {sheet} has no header row with a '{key_header.title()}' column"
        )
    positions: dict[str, int] = {}
    for index, cell in enumerate(rows[header_at]):
        column = headers.get(normalise_header(cell))
        if column and column not in positions:
            positions[column] = index
    required = [c for c in dict.fromkeys(headers.values()) if c != "note"]
    missing = [c for c in required if c not in positions]
    if missing:
        wanted = [next(h for h, col in headers.items() if col == c) for c in missing]
        raise BadInput(
            name, f"sheet {sheet} is missing the column(s) {', '.join(repr(w) for w in wanted)}"
        )
    records = []
    for offset, row in enumerate(rows[header_at + 1 :], start=header_at + 2):
        cells = {col: (row[i] if i < len(row) else "") for col, i in positions.items()}
        if all(_blank(v) for v in cells.values()):
            continue
        if _blank(cells[key]):
            raise BadInput(name, f"sheet {sheet} row {offset} has figures but no date")
        record = {key: _to_date(cells[key], name, sheet, offset)}
        for col in required:
            if col == key:
                continue
            record[col] = _to_count(cells[col], col, name, sheet, offset)
        note = cells.get("note", "")
        record["note"] = None if _blank(note) else str(note).strip()
        records.append(record)
    if not records:
        raise BadInput(name, f"sheet {sheet} has no data rows")
    return pd.DataFrame.from_records(records)


def _blank(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def _to_date(value: Any, name: str, sheet: str, row: int) -> date:
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    text = str(value).strip()
    for fmt in ("%Y-%m-%d", "%d/%m/%Y", "%d %B %Y", "%d %b %Y"):
        try:
            return datetime.strptime(text, fmt).date()
        except ValueError:
            continue
    raise BadInput(name, f"sheet {sheet} row {row} has {text[:40]!r} where a date should be")


def _to_count(value: Any, column: str, name: str, sheet: str, row: int) -> int | None:
    if isinstance(value, str):
        text = value.strip().replace(",", "")
        if text in {"-", "–", ".."} and column in MAY_BE_MISSING:
            return None
        try:
            value = float(text)
        except ValueError:
            raise BadInput(
                name, f"sheet {sheet} row {row} has {value.strip()[:40]!r} in {column}, not a count"
            ) from None
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise BadInput(name, f"sheet {sheet} row {row} has {value!r} in {column}, not a count")
    if value != value or value in (float("inf"), float("-inf")):
        raise BadInput(name, f"sheet {sheet} row {row} has no number in {column}")
    if value < 0:
        raise BadInput(
            name, f"sheet {sheet} row {row} has a negative count ({value:g}) in {column}"
        )
    if value > MAX_COUNT:
        raise BadInput(
            name,
            f"sheet {sheet} row {row} has {value:g} in {column}, over the plausible {MAX_COUNT:,}",
        )
    if value != int(value):
        raise BadInput(
            name, f"sheet {sheet} row {row} has a fractional count ({value:g}) in {column}"
        )
    return int(value)


def check_daily(
    daily: pd.DataFrame,
    name: str,
    *,
    today: date | None = None,
    starts_on: date | None = None,
) -> pd.DataFrame:
    """Dates unique and contiguous (from `starts_on` when given), none in the future."""
    daily = daily.sort_values("date", kind="stable").reset_index(drop=True)
    dates = daily["date"]
    duplicated = dates[dates.duplicated()]
    if not duplicated.empty:
        raise BadInput(name, f"has the date {duplicated.iloc[0]:%Y-%m-%d} more than once")
    if starts_on is not None and dates.iloc[0] != starts_on:
        raise BadInput(
            name, f"daily figures start on {dates.iloc[0]:%Y-%m-%d}, not on {starts_on:%Y-%m-%d}"
        )
    expected = (dates.iloc[-1] - dates.iloc[0]).days + 1
    if expected != len(dates):
        steps = pd.Series([(b - a).days for a, b in zip(dates, dates.iloc[1:], strict=False)])
        gap_at = dates.iloc[int(steps.gt(1).to_numpy().argmax())]
        raise BadInput(
            name,
            f"is missing {expected - len(dates)} day(s) inside its range, first after "
            f"{gap_at:%Y-%m-%d}",
        )
    today = today or london_today()
    if dates.iloc[-1] > today:
        raise BadInput(
            name, f"has figures for {dates.iloc[-1]:%Y-%m-%d}, after today ({today:%Y-%m-%d})"
        )
    daily["revised"] = daily["note"].fillna("").str.contains("revis", case=False)
    return daily[DAILY_COLUMNS]


def _check_weekly(weekly: pd.DataFrame, name: str) -> pd.DataFrame:
    weekly = weekly.sort_values("week_ending", kind="stable").reset_index(drop=True)
    ends = weekly["week_ending"]
    if ends.duplicated().any():
        raise BadInput(
            name, f"sheet SB_02 has the week ending {ends[ends.duplicated()].iloc[0]} twice"
        )
    not_sunday = ends[[d.weekday() != 6 for d in ends]]
    if not not_sunday.empty:
        raise BadInput(name, f"sheet SB_02 has a week ending {not_sunday.iloc[0]}, not a Sunday")
    if (ends.iloc[-1] - ends.iloc[0]) != timedelta(weeks=len(ends) - 1):
        raise BadInput(name, "sheet SB_02 is missing weeks inside its range")
    return weekly[WEEKLY_COLUMNS]
