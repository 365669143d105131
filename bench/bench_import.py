"""Import benchmark: 10,000 rows (4,000 units, 4,000 owners, 2,000 appointments) in one XLSX,
dry run then apply, on SQLite. Run: python -m bench.bench_import"""

from __future__ import annotations

import io
import os
import tempfile
import time
from pathlib import Path

import openpyxl

from server.db import Database
from server.models import Project
from server.services.actor import SYSTEM
from server.services.imports import run_import
from server.services.imports.rows import id_check_digit
from server.services.imports.templates import workbook_bytes


def build(units: int = 4000, owners: int = 4000, appts: int = 2000) -> bytes:
    book = openpyxl.load_workbook(io.BytesIO(workbook_bytes()))
    keys = [
        (str(1 + i // 400), str(1 + (i // 100) % 4), f"{1 + (i % 100) // 4}{1 + i % 4:02d}")
        for i in range(units)
    ]
    for b, e, r in keys:
        book["房源"].append([b, e, r, None, 98.5, "A1"])
    for i in range(owners):
        born = f"{1950 + i % 50}{1 + (i // 50) % 12:02d}{1 + (i // 600) % 28:02d}"
        first17 = f"440106{born}{i % 1000:03d}"
        b, e, r = keys[i % units]
        book["业主"].append([b, e, r, f"业主{i}", first17 + id_check_digit(first17), f"138{i:08d}"])
    for i in range(appts):
        b, e, r = keys[i]
        book["预约"].append([b, e, r, "2026-12-01", "09:00-10:00", None, None, "第一批"])
    buf = io.BytesIO()
    book.save(buf)
    return buf.getvalue()


def main() -> None:
    data = build()
    with tempfile.TemporaryDirectory() as tmp:
        db = Database(f"sqlite:///{Path(tmp) / 'bench.db'}")
        db.create_all()
        with db.session() as s:
            s.add(Project(code="bench", name="bench"))
            s.commit()
        for dry in (True, False, False):
            t0 = time.perf_counter()
            with db.session() as s:
                report = run_import(
                    s, project_id=1, filename="bench.xlsx", data=data, actor=SYSTEM, dry_run=dry
                )
            rows = sum(r.rows for r in report.results)
            label = "dry run" if dry else ("apply" if report.results[0].created else "re-import")
            print(
                f"{label:9s} {rows} rows: {time.perf_counter() - t0:.1f} s, "
                f"errors {len(report.errors)}"
            )
        db.dispose()
    print(f"cores {os.cpu_count()}, load {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
