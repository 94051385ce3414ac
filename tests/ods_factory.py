"""Write small ODS files in the Home Office layout, for tests of malformed and revised releases.

Real releases are read in place from ../shared/data; this writes our own, so a test can change
one cell (a negative count, a renamed column, a missing day) and see what the pipeline does.
"""

from __future__ import annotations

import struct
import zipfile
import zlib
from collections.abc import Sequence
from datetime import date, timedelta
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape

SB01_HEADER = [
    "Date",
    "Migrants arrived",
    "Boats arrived",
    "Boats arrived - involved in uncontrolled landings",
    "Notes",
]
SB02_HEADER = [
    "Week ending",
    "Migrants arrived",
    "Boats arrived",
    "Boats arrived - involved in uncontrolled landings",
    "Migrants prevented",
    "Events prevented",
    "Notes",
]

MANIFEST = """<?xml version="1.0" encoding="UTF-8"?>
<manifest:manifest xmlns:manifest="urn:oasis:names:tc:opendocument:xmlns:manifest:1.0" \
manifest:version="1.2">
 <manifest:file-entry manifest:full-path="/" \
manifest:media-type="application/vnd.oasis.opendocument.spreadsheet"/>
 <manifest:file-entry manifest:full-path="content.xml" manifest:media-type="text/xml"/>
</manifest:manifest>
"""

CONTENT_HEAD = (
    '<?xml version="1.0" encoding="UTF-8"?>\n'
    "<office:document-content "
    'xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0" '
    'xmlns:table="urn:oasis:names:tc:opendocument:xmlns:table:1.0" '
    'xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0" '
    'office:version="1.2"><office:body><office:spreadsheet>'
)
CONTENT_TAIL = "</office:spreadsheet></office:body></office:document-content>"


def _cell(value: Any) -> str:
    if value is None or value == "":
        return "<table:table-cell/>"
    if isinstance(value, date):
        iso = value.isoformat()
        return (
            f'<table:table-cell office:value-type="date" office:date-value="{iso}">'
            f"<text:p>{value:%d/%m/%Y}</text:p></table:table-cell>"
        )
    if isinstance(value, int | float) and not isinstance(value, bool):
        return (
            f'<table:table-cell office:value-type="float" office:value="{value}">'
            f"<text:p>{value}</text:p></table:table-cell>"
        )
    return (
        f'<table:table-cell office:value-type="string"><text:p>{escape(str(value))}</text:p>'
        "</table:table-cell>"
    )


def _table(name: str, rows: Sequence[Sequence[Any]]) -> str:
    body = "".join(
        "<table:table-row>" + "".join(_cell(v) for v in row) + "</table:table-row>" for row in rows
    )
    return f'<table:table table:name="{escape(name)}">{body}</table:table>'


def content_xml(sheets: dict[str, Sequence[Sequence[Any]]]) -> str:
    """The content.xml of a spreadsheet with these sheets (name -> rows, first row a header)."""
    return CONTENT_HEAD + "".join(_table(n, rows) for n, rows in sheets.items()) + CONTENT_TAIL


def write_ods(
    path: Path, sheets: dict[str, Sequence[Sequence[Any]]], *, content: str | None = None
) -> Path:
    """Write an ODS file; `content` replaces the generated content.xml (for hostile inputs)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr(
            "mimetype",
            "application/vnd.oasis.opendocument.spreadsheet",
            compress_type=zipfile.ZIP_STORED,
        )
        archive.writestr("META-INF/manifest.xml", MANIFEST, compress_type=zipfile.ZIP_DEFLATED)
        archive.writestr(
            "content.xml",
            content if content is not None else content_xml(sheets),
            compress_type=zipfile.ZIP_DEFLATED,
        )
    return path


def write_zip_bomb(
    path: Path,
    head: bytes,
    pad: int,
    *,
    member: str = "content.xml",
    compresslevel: int | None = None,
    rest: str = "",
) -> Path:
    """An ODS whose `member` is `head` then `pad` spaces, deflated (~1000:1 at the default
    level, ~220:1 at level 1). `rest` is the content.xml to add when the bomb is another member.

    Deflating 512 MB takes seconds, so one 1 MB block is deflated once and its compressed form
    repeated: each copy is a run of complete, byte-aligned deflate blocks with no reference
    outside itself, which is what a streaming compressor with full flushes would have written."""
    member_bytes, crc, size = _deflated_spaces(head, pad, compresslevel)
    if size >= 1 << 32:
        raise ValueError("a bomb this large needs zip64 headers, which this writer does not make")
    with zipfile.ZipFile(path, "w") as archive:
        if member != "mimetype":
            archive.writestr("mimetype", "application/vnd.oasis.opendocument.spreadsheet")
        archive.writestr("META-INF/manifest.xml", MANIFEST, zipfile.ZIP_DEFLATED)
        # Stored as the deflate stream itself, then its headers made to say "deflated".
        archive.writestr(zipfile.ZipInfo(member, date_time=(2026, 1, 1, 0, 0, 0)), member_bytes)
        if member != "content.xml":
            archive.writestr("content.xml", rest)
    set_member_header(path, member, crc=crc, size=size, deflated=True)
    return path


def _deflated_spaces(head: bytes, pad: int, level: int | None) -> tuple[bytes, int, int]:
    """A raw deflate stream of `head` + `pad` spaces, its CRC-32 and its unpacked size."""
    level = 9 if level is None else level
    block = b" " * (1 << 20)

    def flushed(data: bytes, mode: int) -> bytes:
        packer = zlib.compressobj(level, zlib.DEFLATED, -15)
        return packer.compress(data) + packer.flush(mode)

    whole, part = divmod(pad, len(block))
    packed_block = flushed(block, zlib.Z_FULL_FLUSH)
    tail = flushed(b" " * part, zlib.Z_FINISH)
    stream = b"".join([flushed(head, zlib.Z_FULL_FLUSH), packed_block * whole, tail])
    crc = zlib.crc32(head)
    for _ in range(whole):
        crc = zlib.crc32(block, crc)
    crc = zlib.crc32(b" " * part, crc)
    return stream, crc, len(head) + pad


def set_member_header(
    path: Path, member: str, *, crc: int, size: int, deflated: bool = False
) -> None:
    """Rewrite a member's local and central zip headers: its CRC-32 and unpacked size (true or
    forged), and with `deflated` its method (for a member stored as a raw deflate stream)."""
    name = member.encode()
    data = bytearray(path.read_bytes())
    for signature, method, crc_at, size_at, name_len_at, name_at in (
        (b"PK\x03\x04", 8, 14, 22, 26, 30),
        (b"PK\x01\x02", 10, 16, 24, 28, 46),
    ):
        at = data.find(signature)
        while at != -1:
            name_len = struct.unpack_from("<H", data, at + name_len_at)[0]
            if data[at + name_at : at + name_at + name_len] == name:
                if deflated:
                    struct.pack_into("<H", data, at + method, zipfile.ZIP_DEFLATED)
                struct.pack_into("<I", data, at + crc_at, crc)
                struct.pack_into("<I", data, at + size_at, size)
            at = data.find(signature, at + 4)
    path.write_bytes(bytes(data))


def daily_rows(
    through: date, *, start: date = date(2018, 1, 1), value: Any = None
) -> list[list[Any]]:
    """SB_01 rows from `start` to `through`: a simple made-up pattern unless `value` is given."""
    rows: list[list[Any]] = [list(SB01_HEADER)]
    day = start
    while day <= through:
        migrants = value if value is not None else (day.toordinal() * 7) % 50
        boats = migrants // 40 if isinstance(migrants, int) else 0
        rows.append([day, migrants, boats, "-" if day.year < 2020 else 0, ""])
        day += timedelta(days=1)
    return rows


def rows_like(path: Path, through: date) -> list[list[Any]]:
    """SB_01 rows repeating a real release's figures, cut or extended (made-up days) to `through`:
    a made-up release that agrees with the real history, so the store does not hold it back as
    a rewrite of past years."""
    from forecasting.sources.release import read_release

    real = read_release(path).daily
    rows: list[list[Any]] = [list(SB01_HEADER)]
    for r in real.itertuples(index=False):
        if r.date <= through:
            uncontrolled = (
                "-"
                if r.boats_uncontrolled is None or r.boats_uncontrolled != r.boats_uncontrolled
                else int(r.boats_uncontrolled)
            )
            rows.append([r.date, int(r.migrants_arrived), int(r.boats_arrived), uncontrolled, ""])
    extra = (
        daily_rows(through, start=rows[-1][0] + timedelta(days=1))[1:]
        if rows[-1][0] < through
        else []
    )
    return rows + extra


def weekly_rows(daily: list[list[Any]]) -> list[list[Any]]:
    """SB_02 rows summing SB_01 by week ending Sunday (complete weeks only)."""
    rows: list[list[Any]] = [list(SB02_HEADER)]
    totals: dict[date, list[int]] = {}
    for day, migrants, boats, *_ in daily[1:]:
        end = day + timedelta(days=6 - day.weekday())
        bucket = totals.setdefault(end, [0, 0, 0])
        bucket[0] += int(migrants)
        bucket[1] += int(boats)
        bucket[2] += 1
    for end, (migrants, boats, days) in sorted(totals.items()):
        if days == 7:
            rows.append([end, migrants, boats, 0, "-", "-", ""])
    return rows


def release_name(released_on: date) -> str:
    """The Home Office's file name for a release on that day."""
    return f"{released_on:%d_%B_%Y}_Small_boats_-_time_series.ods"


def write_release(
    folder: Path,
    released_on: date,
    *,
    daily: list[list[Any]] | None = None,
    weekly: list[list[Any]] | None = None,
    name: str | None = None,
) -> Path:
    """A whole release in the Home Office layout, data through the day before `released_on`."""
    daily = daily if daily is not None else daily_rows(released_on - timedelta(days=1))
    weekly = weekly if weekly is not None else weekly_rows(daily)
    sheets = {
        "Cover_sheet": [["Migrants detected crossing the English Channel in small boats"]],
        "Notes": [["Notes"], ["1. Test data written by the project's tests."]],
        "SB_01": daily,
        "SB_02": weekly,
    }
    return write_ods(folder / (name or release_name(released_on)), sheets)
