"""Bounded checks of a workbook that may be xlsx or ODS, before the spreadsheet reader sees it.

The quarterly detailed dataset comes as xlsx (and could come as ODS, as the weekly release
does). Both are zip archives, so both get the same guards: no zip bomb (the real unpacked bytes
are counted, not the headers' claims), no DTD or entity declarations, and no sheet that would
unpack to more cells than `MAX_SHEET_CELLS`. ODS goes through `archive.check_ods_container`;
xlsx through `check_xlsx_container` here.
"""

from __future__ import annotations

import io
import re
import zipfile
import zlib
from typing import Any

from forecasting.errors import BadInput
from forecasting.sources.archive import (
    MAX_SHEET_CELLS,
    _member_chunks,
    check_ods_container,
    check_zip_members,
    first_line,
    sniff,
)

__all__ = ["NOT_WORKBOOK", "check_workbook_container", "read_workbook_sheets", "sheet_names"]

NOT_WORKBOOK = {
    "empty": "is empty (0 bytes), not a spreadsheet",
    "html": "is an HTML page, not a spreadsheet (an error page saved as a workbook?)",
    "not_zip": "is not an xlsx or ODS spreadsheet (not a zip archive)",
}
_CELL_REF = re.compile(rb'<c [^>]*?r="([A-Z]{1,3})(\d{1,7})"')


def check_workbook_container(content: bytes, name: str, *, from_web: bool = False) -> str:
    """Refuse what is not a whole xlsx or ODS workbook, and any bomb; return "xlsx" or "ods"."""
    problem = sniff(content)
    if problem:
        text = NOT_WORKBOOK[problem]
        raise BadInput(name, text.replace("is ", "sent ", 1) if from_web else text)
    try:
        with zipfile.ZipFile(io.BytesIO(content)) as archive:
            names = archive.namelist()
            if "content.xml" in names:
                kind = "ods"
            elif "xl/workbook.xml" in names:
                kind = "xlsx"
                _check_xlsx(content, archive, name)
            else:
                raise BadInput(name, "is a zip archive but neither an xlsx nor an ODS workbook")
    except zipfile.BadZipFile as exc:
        raise BadInput(name, f"is a damaged or truncated workbook ({first_line(exc)})") from None
    except (EOFError, zlib.error, NotImplementedError, RuntimeError, ValueError) as exc:
        raise BadInput(name, f"is a damaged or truncated workbook ({first_line(exc)})") from None
    if kind == "ods":
        check_ods_container(content, name, from_web=from_web)
    return kind


def _check_xlsx(content: bytes, archive: zipfile.ZipFile, name: str) -> None:
    """Every member unpacked by counting (a bomb stops at the limit), every XML scanned."""
    check_zip_members(archive, name, "workbook")
    for info in archive.infolist():
        if not info.filename.endswith((".xml", ".rels")):
            continue
        sheet = info.filename.startswith("xl/worksheets/")
        max_row = max_col = 0
        tail = b""
        for chunk in _member_chunks(content, info, name):
            window = tail + chunk
            if b"<!DOCTYPE" in window or b"<!ENTITY" in window:
                raise BadInput(
                    name,
                    f"{info.filename} declares XML entities or a DTD, which a release never "
                    "does; refused (entity expansion attack?)",
                )
            if sheet:
                for col, row in _CELL_REF.findall(window):
                    max_row = max(max_row, int(row))
                    max_col = max(max_col, _column_number(col))
                if max_row * max_col > MAX_SHEET_CELLS:
                    raise BadInput(
                        name,
                        f"{info.filename} would unpack to over {MAX_SHEET_CELLS:,} cells "
                        "(a spreadsheet bomb?); refused before parsing",
                    )
            tail = chunk[-64:]


def _column_number(letters: bytes) -> int:
    number = 0
    for letter in letters:
        number = number * 26 + (letter - ord("A") + 1)
    return number


def sheet_names(content: bytes, name: str) -> list[str]:
    """The sheets' names (a checked container only), without reading their cells."""
    return list(_read(content, name, cells=False))


def read_workbook_sheets(content: bytes, name: str) -> dict[str, list[list[Any]]]:
    """Every sheet's cells (a checked container only), read by calamine for either format."""
    return _read(content, name, cells=True)


def _read(content: bytes, name: str, *, cells: bool) -> dict[str, list[list[Any]]]:
    from python_calamine import CalamineWorkbook

    try:
        workbook = CalamineWorkbook.from_filelike(io.BytesIO(content))
        if not cells:
            return {sheet: [] for sheet in workbook.sheet_names}
        return {
            sheet: workbook.get_sheet_by_name(sheet).to_python(skip_empty_area=False)
            for sheet in workbook.sheet_names
        }
    except (KeyboardInterrupt, SystemExit):
        raise
    except BaseException as exc:  # calamine's errors, and a Rust panic (a BaseException)
        raise BadInput(name, f"could not be read as a spreadsheet ({first_line(exc)})") from None
