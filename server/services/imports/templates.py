"""Blank templates to fill in: one workbook with a sheet per kind, or one CSV per kind."""

from __future__ import annotations

import csv
import io

from .rows import KINDS, ORDER

_GUIDE = (
    "填写说明 / How to fill in",
    "每个工作表一类数据；第一行是表头（中文或英文均可），从第二行起每行一条。带 * 的列必填。",
    "Each sheet holds one kind of data; row 1 is the header (Chinese or English), one item per row. Columns marked * are required.",
    "房屋以 楼栋+单元+房号 识别；业主以身份证号识别；员工以用户名识别。再次导入同一文件只会更新，不会重复。",
    "Units are found by building + entrance + room, owners by ID number, staff by user name: importing again updates, never duplicates.",
    "先在管理页面点“检查（不导入）”，确认无误后再点“导入”。任何一行有错，整个文件都不会导入。",
    "Run the check first; if any row is wrong nothing is imported.",
    "CSV 文件可用 UTF-8 或 GBK 编码保存。",
)


def header(kind: str, lang: str = "zh") -> list[str]:
    return [
        (c.zh if lang == "zh" else c.en) + ("*" if c.required else "") for c in KINDS[kind].columns
    ]


def workbook_bytes(kinds: tuple[str, ...] = ORDER) -> bytes:
    import openpyxl
    from openpyxl.comments import Comment
    from openpyxl.styles import Font

    book = openpyxl.Workbook()
    guide = book.active
    guide.title = "说明"
    for i, line in enumerate(_GUIDE, start=1):
        guide.cell(row=i, column=1, value=line)
    guide.column_dimensions["A"].width = 120
    for code in kinds:
        kind = KINDS[code]
        ws = book.create_sheet(kind.zh)
        for col_no, (col, text) in enumerate(zip(kind.columns, header(code), strict=True), 1):
            cell = ws.cell(row=1, column=col_no, value=text)
            cell.font = Font(bold=True)
            if col.hint_zh:
                cell.comment = Comment(col.hint_zh, "handover")
            ws.column_dimensions[cell.column_letter].width = max(12, len(text) * 2 + 4)
    buf = io.BytesIO()
    book.save(buf)
    return buf.getvalue()


def csv_bytes(kind: str) -> bytes:
    buf = io.StringIO()
    csv.writer(buf).writerow(header(kind))
    # With a BOM, Excel on Windows opens UTF-8 Chinese text correctly.
    return buf.getvalue().encode("utf-8-sig")
