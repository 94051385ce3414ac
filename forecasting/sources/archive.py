"""Bounded reads of what may be an ODS spreadsheet, the same for a file and for a download.

An ODS is a zip archive, and a zip can lie: a small file can unpack to gigabytes (a zip bomb,
even in its `mimetype` member), headers can claim sizes the data does not have, and content.xml
can declare entities that expand without end or ask for a hundred million repeated cells. Every
check here reads a bounded amount, so a hostile archive is refused before it costs memory, and
the spreadsheet reader only ever sees an archive that passed them all.
"""

from __future__ import annotations

import io
import stat
import struct
import zipfile
import zlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from xml.parsers import expat

from forecasting.errors import BadInput

__all__ = [
    "ODS_MIMETYPE",
    "MAX_UNCOMPRESSED_BYTES",
    "MAX_SHEET_CELLS",
    "NOT_ODS_FROM_FILE",
    "NOT_ODS_FROM_WEB",
    "sniff",
    "check_ods_container",
    "check_zip_members",
    "read_capped",
    "first_line",
]

ODS_MIMETYPE = b"application/vnd.oasis.opendocument.spreadsheet"
# A real release is about 0.3 MB zipped and 2.3 MB unzipped; this leaves room to grow for
# decades while refusing a zip bomb before any XML is parsed.
MAX_UNCOMPRESSED_BYTES = 64 * 1024 * 1024
# ODS repeats a cell with table:number-rows/columns-repeated, so a 1 kB content.xml can ask the
# spreadsheet reader for 100 million cells (gigabytes). A real SB_01 spans about 3,000 x 6 cells.
MAX_SHEET_CELLS = 2_000_000

# What `sniff` found, in words for a file a person gave us and for what a web server sent.
NOT_ODS_FROM_FILE = {
    "empty": "is empty (0 bytes), not an ODS spreadsheet",
    "html": "is an HTML page, not an ODS spreadsheet (an error page saved as .ods?)",
    "not_zip": "is not an ODS spreadsheet (not a zip archive)",
}
NOT_ODS_FROM_WEB = {
    "empty": "sent an empty body, not an ODS spreadsheet",
    "html": "sent an HTML page where the ODS spreadsheet should be (an error page?)",
    "not_zip": "sent something that is not an ODS spreadsheet (not a zip archive)",
}


def sniff(head: bytes) -> str | None:
    """Why the first bytes cannot be an ODS ("empty", "html", "not_zip"), or None if they may be."""
    if not head:
        return "empty"
    lowered = head[:512].lstrip().lower()
    if lowered.startswith((b"<!doctype html", b"<html", b"<?xml")) or b"<html" in lowered:
        return "html"
    if not head.startswith(b"PK\x03\x04"):
        return "not_zip"
    return None


def first_line(exc: BaseException) -> str:
    """An exception's first line, for a message that must stay one line."""
    text = str(exc).strip().splitlines()
    return text[0][:200] if text else type(exc).__name__


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


def check_ods_container(content: bytes, name: str, *, from_web: bool = False) -> None:
    """Refuse what is not a whole ODS, and any bomb, before the spreadsheet reader sees it."""
    problem = sniff(content)
    if problem:
        raise BadInput(name, (NOT_ODS_FROM_WEB if from_web else NOT_ODS_FROM_FILE)[problem])
    try:
        with zipfile.ZipFile(io.BytesIO(content)) as archive:
            _check_members(archive, name)
            _scan_xml(content, archive.getinfo("content.xml"), name)
    except zipfile.BadZipFile as exc:
        raise BadInput(name, f"is a damaged or truncated ODS file ({first_line(exc)})") from None
    except (EOFError, zlib.error, NotImplementedError, RuntimeError, ValueError) as exc:
        # NotImplementedError: unsupported compression; RuntimeError: encrypted member.
        raise BadInput(name, f"is a damaged or truncated ODS file ({first_line(exc)})") from None


def _check_members(archive: zipfile.ZipFile, name: str) -> None:
    """The members' names and declared sizes, then the mimetype read bounded (it may be a bomb)."""
    names = archive.namelist()
    if "content.xml" not in names:
        raise BadInput(name, "is not an ODS spreadsheet (no content.xml inside)")
    check_zip_members(archive, name, "ODS file")
    if "mimetype" in names:
        with archive.open("mimetype") as stream:
            mimetype = stream.read(len(ODS_MIMETYPE) + 64)
        if mimetype.strip() != ODS_MIMETYPE:
            raise BadInput(name, "is a zip archive but not an ODS spreadsheet (wrong mimetype)")


def check_zip_members(archive: zipfile.ZipFile, name: str, what: str) -> None:
    """No member name twice, and the declared sizes within the limit (ODS and xlsx alike)."""
    names = archive.namelist()
    if len(set(names)) != len(names):
        # Readers disagree on which of two same-named members they use: one checked here could
        # differ from the one parsed.
        raise BadInput(name, f"is a damaged {what} (a member name appears twice)")
    declared = sum(info.file_size for info in archive.infolist())
    if declared > MAX_UNCOMPRESSED_BYTES:
        raise BadInput(
            name,
            f"would unpack to {declared:,} bytes, over the {MAX_UNCOMPRESSED_BYTES:,}-byte limit "
            "(a zip bomb?); refused before parsing",
        )


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
    packed = _packed_bytes(content, info, name)
    step = 1 << 20
    inflate = zlib.decompressobj(-15) if info.compress_type == zipfile.ZIP_DEFLATED else None
    pending: bytes | memoryview  # the packed bytes, then inflate's unconsumed tail
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
        _check_unpacked_size(total, info, name)
        crc = zlib.crc32(chunk, crc)
        yield chunk
    if (inflate is not None and not inflate.eof) or total != info.file_size:
        raise BadInput(name, f"is a damaged or truncated ODS file ({member} is cut short)")
    if crc != info.CRC:
        raise BadInput(name, f"is a damaged ODS file (bad CRC-32 for {member})")


def _packed_bytes(content: bytes, info: zipfile.ZipInfo, name: str) -> memoryview:
    """The member's compressed bytes, found through its local header."""
    member = info.filename
    at = info.header_offset
    if content[at : at + 4] != b"PK\x03\x04":
        raise BadInput(name, f"is a damaged ODS file (no local header for {member})")
    name_len, extra_len = struct.unpack_from("<HH", content, at + 26)
    start = at + 30 + name_len + extra_len
    packed = memoryview(content)[start : start + info.compress_size]
    if len(packed) != info.compress_size:
        raise BadInput(name, f"is a damaged or truncated ODS file ({member} is cut short)")
    return packed


def _check_unpacked_size(total: int, info: zipfile.ZipInfo, name: str) -> None:
    member = info.filename
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
                self._grow()
            self.col += self.cols_repeated
        elif tag == self.TABLE:
            self.depth -= 1
        elif self.depth == 1 and tag == self.ROW:
            self.row += self.rows_repeated

    def _grow(self) -> None:
        self.max_row = max(self.max_row, self.row + self.rows_repeated - 1)
        self.max_col = max(self.max_col, self.col + self.cols_repeated - 1)
        if (self.max_row + 1) * (self.max_col + 1) > MAX_SHEET_CELLS:
            raise BadInput(
                self.name,
                f"sheet {self.sheet!r} would unpack to over {MAX_SHEET_CELLS:,} cells "
                "(repeated rows/columns: a spreadsheet bomb?); refused before parsing",
            )
