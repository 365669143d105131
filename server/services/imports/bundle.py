"""A ZIP upload: the spreadsheet(s) together with the floor plans of the unit types.

What a venue admin puts in the ZIP (any folders inside are fine):
- one workbook (.xlsx) or CSV files, as for a plain import;
- a floor plan per unit type, named by the unit type's code (the units sheet's 户型 column):
  `A2.png`, `B1.jpg`, `C3.pdf` (of a PDF, its first page becomes the plan).

Windows' own "send to compressed folder" writes Chinese names in GBK without saying so; such
names are decoded as GB18030. Sizes are checked from the ZIP's directory before anything is
read, so a ZIP bomb is refused, not unpacked.
"""

from __future__ import annotations

import io
import zipfile
from dataclasses import dataclass, field
from pathlib import PurePosixPath

from server.engine import Invalid
from server.services.files import MAX_UPLOAD_BYTES

TABLE_SUFFIXES = {".xlsx", ".xlsm", ".csv"}
PLAN_SUFFIXES = {".png", ".jpg", ".jpeg", ".pdf"}
MAX_ENTRIES = 500
MAX_TABLE_BYTES = 20 * 1024 * 1024
MAX_TOTAL_BYTES = 200 * 1024 * 1024


@dataclass
class PlanFile:
    entry: str  # the name inside the ZIP, as the admin sees it
    code: str  # the unit type code: the file name without its suffix
    data: bytes


@dataclass
class Bundle:
    tables: list[tuple[str, bytes]] = field(default_factory=list)
    plans: list[PlanFile] = field(default_factory=list)
    # (entry, English message id, params): files that are neither a table nor a plan
    problems: list[tuple[str, str, dict]] = field(default_factory=list)


def is_zip_bundle(filename: str, data: bytes) -> bool:
    """A .zip upload (an .xlsx is a ZIP too, but holds [Content_Types].xml)."""
    if data[:2] != b"PK":
        return False
    if (filename or "").lower().endswith(".zip"):
        return True
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as z:
            return "[Content_Types].xml" not in z.namelist()
    except zipfile.BadZipFile:
        return False


def _name(info: zipfile.ZipInfo) -> str:
    if info.flag_bits & 0x800:  # the UTF-8 flag: the name is right as it is
        return info.filename
    try:
        return info.filename.encode("cp437").decode("gb18030")
    except (UnicodeEncodeError, UnicodeDecodeError):
        return info.filename


def unpack(filename: str, data: bytes) -> Bundle:
    if not is_zip_bundle(filename, data):
        return Bundle(tables=[(filename, data)])
    try:
        z = zipfile.ZipFile(io.BytesIO(data))
    except zipfile.BadZipFile:
        raise Invalid("bad_zip", "This ZIP file cannot be read.") from None
    bundle = Bundle()
    with z:
        infos = [i for i in z.infolist() if not i.is_dir()]
        if len(infos) > MAX_ENTRIES:
            raise Invalid(
                "zip_too_many_files", "The ZIP holds too many files (at most %(n)s).", n=MAX_ENTRIES
            )
        if sum(i.file_size for i in infos) > MAX_TOTAL_BYTES:
            raise Invalid(
                "zip_too_large",
                "The ZIP is too large once unpacked (at most %(mb)s MB).",
                mb=MAX_TOTAL_BYTES // (1024 * 1024),
            )
        seen: dict[str, str] = {}
        for info in infos:
            name = _name(info)
            path = PurePosixPath(name.replace("\\", "/"))
            if path.name.startswith(".") or "__MACOSX" in path.parts or path.name == "Thumbs.db":
                continue
            suffix = path.suffix.lower()
            limit = MAX_TABLE_BYTES if suffix in TABLE_SUFFIXES else MAX_UPLOAD_BYTES
            if info.file_size > limit:
                bundle.problems.append(
                    (
                        name,
                        "The file is too large (at most %(mb)s MB).",
                        {"mb": limit // (1024 * 1024)},
                    )
                )
                continue
            try:
                content = z.read(info)
            except (zipfile.BadZipFile, RuntimeError, OSError, NotImplementedError):
                bundle.problems.append((name, "This file in the ZIP cannot be read.", {}))
                continue
            if suffix in TABLE_SUFFIXES:
                bundle.tables.append((path.name, content))
            elif suffix in PLAN_SUFFIXES:
                code = path.stem.strip()
                if code in seen:
                    bundle.problems.append(
                        (
                            name,
                            "Two floor plans for unit type %(code)s (also %(other)s).",
                            {"code": code, "other": seen[code]},
                        )
                    )
                    continue
                seen[code] = name
                bundle.plans.append(PlanFile(name, code, content))
            else:
                bundle.problems.append(
                    (
                        name,
                        "Neither a spreadsheet (.xlsx, .csv) nor a floor plan (.png, .jpg, .pdf).",
                        {},
                    )
                )
    if not bundle.tables and not bundle.plans:
        raise Invalid("empty_file", "The file is empty.")
    return bundle
