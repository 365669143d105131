"""Reads an uploaded table (XLSX, or CSV in UTF-8 or GBK) into plain text cells.

Sales systems export either; Excel on a Chinese Windows saves CSV as GBK, so a CSV that is
not valid UTF-8 is read as GB18030 (a superset of GBK and GB2312).
"""

from __future__ import annotations

import csv
import io
import zipfile
from dataclasses import dataclass, field
from datetime import date, datetime, time
from pathlib import PurePath

from server.engine import Invalid


@dataclass
class Sheet:
    name: str
    headers: list[str]
    header_row: int
    # (row number as the spreadsheet shows it, cell texts)
    rows: list[tuple[int, list[str | None]]] = field(default_factory=list)


def cell_text(value) -> str | None:
    """One cell as text: numbers typed into Excel come back as 1201.0, dates as datetime."""
    if value is None:
        return None
    if isinstance(value, datetime):
        if value.time() == time(0, 0):
            return value.date().isoformat()
        return value.strftime("%Y-%m-%d %H:%M")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, time):
        return value.strftime("%H:%M")
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    text = str(value).strip()
    return text or None


def decode_csv(data: bytes) -> str:
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        pass
    try:
        return data.decode("gb18030")
    except UnicodeDecodeError:
        raise Invalid(
            "bad_encoding", "This CSV file is neither UTF-8 nor GBK. Please save it again."
        ) from None


def _to_sheet(name: str, rows) -> Sheet | None:
    header, header_row, body = None, 0, []
    for number, raw in rows:
        cells = [cell_text(v) for v in raw]
        if not any(cells):
            continue
        if header is None:
            header, header_row = [c or "" for c in cells], number
        else:
            body.append((number, cells))
    if header is None:
        return None
    return Sheet(name=name, headers=header, header_row=header_row, rows=body)


def read_table(filename: str, data: bytes) -> list[Sheet]:
    suffix = PurePath(filename or "").suffix.lower()
    if not data:
        raise Invalid("empty_file", "The file is empty.")
    if suffix in (".xlsx", ".xlsm") or data[:2] == b"PK":
        return _read_xlsx(data)
    if suffix in (".csv", ".txt", ""):
        text = decode_csv(data)
        reader = csv.reader(io.StringIO(text, newline=""))
        sheet = _to_sheet(PurePath(filename or "import").stem, enumerate(reader, start=1))
        return [sheet] if sheet else []
    raise Invalid("bad_file_type", "Please upload an Excel file (.xlsx) or a CSV file.")


def _read_xlsx(data: bytes) -> list[Sheet]:
    import openpyxl  # imported here: only the import path needs it
    from openpyxl.utils.exceptions import InvalidFileException

    try:
        book = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except (InvalidFileException, zipfile.BadZipFile, KeyError, ValueError, OSError) as exc:
        raise Invalid(
            "bad_xlsx", "This Excel file cannot be read. Please save it as .xlsx."
        ) from exc
    try:
        sheets = []
        for ws in book.worksheets:
            sheet = _to_sheet(ws.title, enumerate(ws.iter_rows(values_only=True), start=1))
            if sheet:
                sheets.append(sheet)
        return sheets
    finally:
        book.close()
