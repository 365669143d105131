"""The daily report of a small day with known events: every figure of every section exactly,
then the same figures in the XLSX cells and in the PDF's text (tests/report_day.py builds it).
"""

from __future__ import annotations

import io
import re
from datetime import datetime
from decimal import Decimal
from pathlib import Path

import pytest
from openpyxl import load_workbook
from pypdf import PdfReader

from server.reports.daily import build_daily
from server.reports.model import format_value
from server.reports.render_pdf import render_pdf
from server.reports.render_xlsx import render_xlsx
from tests.report_day import DAY, build_report_day

T = datetime(2026, 11, 27, 0, 0)


def at(hh, mm):
    return T.replace(hour=hh, minute=mm)


OUTCOME = [6, 5, 2, 1, 1, 1, 2, 2]  # appointed .. did not come

EXPECTED = {
    ("outcomes", "overall"): [
        ["预约", 6],
        ["签到", 5],
        ["钥匙已交接", 2],
        ["验收通过", 1],
        ["带问题接收", 1],
        ["拒收", 1],
        ["未完成", 2],
        ["未到场", 2],
    ],
    ("outcomes", "first_time"): [[2, 1, 0.5]],
    ("outcomes", "by_building"): [
        ["1栋", 4, 4, 2, 1, 1, 1, 1, 1],
        ["2栋", 2, 1, 0, 0, 0, 0, 1, 1],
    ],
    ("outcomes", "by_slot"): [
        ["09:00–10:00", 4, 3, 2, 1, 1, 1, 0, 1],
        ["10:00–11:00", 2, 1, 0, 0, 0, 0, 1, 1],
        ["无预约", 0, 1, 0, 0, 0, 0, 1, 0],
    ],
    ("times", "steps"): [
        ["资料审核", 6, 9.5, 10.0, 14.0, 14.0, 5, 6.2, 6.0, 8.0, 8.0],
        ["收费确认", 4, 6.5, 5.5, 10.0, 10.0, 3, 6.7, 6.0, 8.0, 8.0],
        ["钥匙交接", 2, 4.0, 4.0, 4.0, 4.0, 2, 9.0, 9.0, 10.0, 10.0],
    ],
    ("times", "hours"): [["09:00", 4, 2, 1], ["10:00", 1, 0, 1]],
    ("staffing", "counters"): [
        ["1号窗口", 2, 5.0],
        ["2号窗口", 2, 7.0],
        ["3号窗口", 3, 6.7],
        ["4号窗口", 2, 9.0],
        ["9号窗口", 1, 7.0],
    ],
    ("staffing", "staff"): [["测试staff", 5, 6.2], ["测试supervisor", 5, 7.6]],
    ("defects", "by_category"): [["土建", 4], ["门窗", 1]],
    ("defects", "by_room"): [["客厅", 2], ["主卧", 2], ["厨房", 1]],
    ("defects", "by_building"): [["1栋", 3], ["2栋", 2]],
    ("defects", "by_severity"): [["一般", 2], ["严重", 2], ["紧急", 1]],
    ("defects", "top_items"): [["墙面", 3], ["地面", 1], ["窗户", 1]],
    # Room and pin position in the defect list receipt's words; numbered per visit as on the
    # acceptance form (a corrected defect keeps its number, a voided one has none).
    ("defects", "defect_list"): [
        ["1栋1单元102", 1, "客厅 · 平面图左上", "墙面", "土建", "一般", "livingwall"],
        ["1栋1单元102", 2, "主卧 · 平面图上部", "地面", "土建", "严重", "masterfloor"],
        ["1栋1单元102", 3, "主卧", "窗户", "门窗", "严重", "masterwindow"],
        ["2栋1单元203", 1, "客厅 · 平面图右下", "墙面", "土建", "紧急", "livingwall"],
        ["2栋1单元203", 2, "厨房 · 平面图中部", "墙面", "土建", "一般", "kitchenwall"],
    ],
    ("refusals", "refusals"): [
        ["1栋1单元103", "A003", "王明2", "客厅墙面大面积空鼓", "测试supervisor", at(9, 33)]
    ],
    ("problems", "unpaid_fees"): [
        ["1栋1单元102", "A002", "维修基金", Decimal("5000.00")],
        ["1栋1单元103", "A003", "物业费、维修基金", Decimal("8000.00")],
        ["1栋1单元303", "A005", "物业费、维修基金", Decimal("8000.00")],
    ],
    ("problems", "missing_documents"): [
        ["1栋1单元103", "A003", "身份证"],
        ["2栋1单元203", "A004", "物业服务协议"],
        ["1栋1单元303", "A005", "身份证"],
    ],
    ("problems", "key_shortfalls"): [["1栋1单元102", "A002", "门禁卡", 2, 1, "门禁卡待补办"]],
    ("requests", "by_category"): [["销售", 1, 1], ["工程质量", 2, 2], ["物业服务", 1, 0]],
    ("requests", "by_department"): [["工程部", 2, 2], ["物业公司", 1, 0], ["未分派", 1, 1]],
    ("requests", "open"): [
        ["1栋1单元102", "工程质量", "车库渗水", "工程部", "地下车库B区渗水", at(9, 41)],
        ["2栋1单元203", "销售", "", "未分派", "要求提供购房发票", at(10, 5)],
        ["1栋1单元303", "工程质量", "车库渗水", "工程部", "车库顶板渗水严重", at(10, 45)],
    ],
    ("no_shows", "no_shows"): [
        ["1栋1单元104", "09:00–10:00", "王*3", "138****0003"],
        ["2栋1单元204", "10:00–11:00", "王*7", "138****0007"],
    ],
}
TOTALS = {
    ("outcomes", "by_building"): ["合计", *OUTCOME],
    ("outcomes", "by_slot"): ["合计", *OUTCOME],
    ("defects", "by_category"): ["合计", 5],
}


@pytest.fixture
def day_report(database):
    with database.session() as s:
        d = build_report_day(s)
        report = build_daily(s, d.project_id, DAY, now=at(20, 0))
    return d, report


def test_every_figure_of_every_section(day_report):
    _d, report = day_report
    assert [(f.key, f.value) for f in report.headline] == [
        ("appointed", 6),
        ("checked_in", 5),
        ("handed_over", 2),
        ("accepted", 1),
        ("accepted_with_defects", 1),
        ("refused", 1),
        ("unfinished", 2),
        ("no_show", 2),
        ("first_time_rate", 0.5),
        ("defects", 5),
        ("requests", 4),
    ]
    seen = set()
    for section in report.sections:
        for table in section.tables:
            key = (section.key, table.key)
            seen.add(key)
            assert table.rows == EXPECTED[key], key
            assert table.total == TOTALS.get(key), key
    assert seen == set(EXPECTED)


def test_full_contacts_only_when_asked(database):
    with database.session() as s:
        d = build_report_day(s)
        report = build_daily(s, d.project_id, DAY, reveal_contacts=True)
    assert report.section("no_shows").tables[0].rows == [
        ["1栋1单元104", "09:00–10:00", "王小3", "13800000003"],
        ["2栋1单元204", "10:00–11:00", "王大7", "13800000007"],
    ]


def _sheet_tables(ws) -> dict[str, list[list]]:
    """Title cell -> the rows under its header, up to the blank row after the table."""
    rows = [list(r) for r in ws.iter_rows(values_only=True)]
    out, i = {}, 0
    while i < len(rows):
        title = rows[i][0]
        if isinstance(title, str) and i + 1 < len(rows) and rows[i + 1][0] is not None:
            j = i + 2
            body = []
            while j < len(rows) and any(v is not None for v in rows[j]):
                body.append(rows[j])
                j += 1
            out[title] = body
            i = j
        else:
            i += 1
    return out


def _xlsx_value(v, kind):
    if v is None:
        return None
    if kind in ("int", "minutes", "pct", "money"):
        return float(v)
    return v


def test_xlsx_cells_hold_the_same_figures(day_report):
    _d, report = day_report
    wb = load_workbook(io.BytesIO(render_xlsx(report)))
    overview = wb.worksheets[0]
    figures = {r[0]: r[1] for r in overview.iter_rows(min_row=7, values_only=True) if r[0]}
    assert figures == {f.label: _xlsx_value(f.value, f.kind) for f in report.headline}
    assert figures["首次验收通过率"] == 0.5
    for ws, section in zip(wb.worksheets[1:], report.sections, strict=True):
        assert ws.title == section.title
        assert ws.freeze_panes == "A5"  # rows 1-4 (title, table title, header) stay in view
        tables = _sheet_tables(ws)
        for t in section.tables:
            if not t.rows:
                continue
            body = tables[t.title]
            width = len(t.columns)
            want = [
                [_xlsx_value(v, c.kind) for v, c in zip(r, t.columns, strict=True)] for r in t.rows
            ]
            assert [list(r[:width]) for r in body[: len(t.rows)]] == want, t.key
    steps = _sheet_tables(wb["等候与办理时长"])["各环节等候与办理时长（分钟）"]
    assert steps[0][2] == 9.5 and isinstance(steps[0][1], int)
    cell = wb["等候与办理时长"]["C5"]  # first step, mean wait
    assert cell.number_format == "0.0"
    refusal_time = _sheet_tables(wb["拒收"])["拒收及原因"][0][5]
    assert refusal_time == at(9, 33)


def test_pdf_text_holds_the_same_figures(day_report):
    _d, report = day_report
    pdf = render_pdf(report)
    reader = PdfReader(io.BytesIO(pdf))
    assert reader.pages[0].mediabox.width == pytest.approx(595.28, abs=0.1)  # A4
    # pypdf spaces Hanzi (and puts NULs between the glyphs of this CFF font): compare bare.
    text = re.sub(r"[\s\x00]+", "", "".join(p.extract_text() for p in reader.pages))
    assert "测试花园" in text and "每日交房日报表" in text
    for f in report.headline:
        assert re.sub(r"\s", "", f.label + format_value(f.value, f.kind)) in text, f.key
    for t in report.tables():
        for row in t.rows:
            cells = [format_value(v, c.kind) for v, c in zip(row, t.columns, strict=True)]
            joined = re.sub(r"\s+", "", "".join(cells))
            assert joined in text, (t.key, cells)


def test_tally_slip_is_queued_on_the_chosen_printer(database):
    from server.models import Printer, PrintJob
    from server.printing.receipt import Receipt
    from server.services.actor import Actor
    from server.services.reports import print_daily_tally

    with database.session() as s:
        d = build_report_day(s)
        printer = Printer(project_id=d.project_id, name="客服台打印机", paper_width_mm=58)
        s.add(printer)
        s.commit()
        job = print_daily_tally(
            s,
            project_id=d.project_id,
            day=DAY,
            printer_id=printer.id,
            actor=Actor(staff_id=d.staff["supervisor"], role="supervisor"),
        )
        assert (job.kind, job.printer_id, job.state) == ("daily_tally", printer.id, "queued")
        receipt = Receipt.from_dict(s.get(PrintJob, job.id).payload)
        rows = {b.label: b.value for b in receipt.blocks if hasattr(b, "value")}
        assert rows["预约"] == "6" and rows["未到场"] == "2" and rows["未完成"] == "2"
        assert rows["首次验收通过率"] == "50.0%" and rows["登记问题数"] == "5"
        texts = [b.text for b in receipt.blocks if hasattr(b, "text")]
        assert "资料审核 平均等候 9.5" in texts


def test_pinned_defects_carry_their_place_in_the_xlsx_and_their_plan_in_the_pdf(database, tmp_path):
    from PIL import Image

    from tests.report_day import add_floor_plan

    instance = tmp_path / "instance"
    with database.session() as s:
        d = build_report_day(s)
        add_floor_plan(s, instance, [d.units["u1"], d.units["u6"]])
        report = build_daily(s, d.project_id, DAY, now=at(20, 0))
    section = report.section("defects")
    assert [(p.title, p.pins) for p in section.plans] == [
        ("1栋1单元102 · A002", [(1, 0.2, 0.3), (2, 0.5, 0.2)]),
        ("2栋1单元203 · A004", [(1, 0.8, 0.8), (2, 0.5, 0.5)]),
    ]

    wb = load_workbook(io.BytesIO(render_xlsx(report)))
    rows = _sheet_tables(wb[section.title])["验房问题清单"]
    assert rows[0][:3] == ["1栋1单元102", 1, "客厅 · 平面图左上"]
    assert rows[2][2] == "主卧"  # no pin: the room alone, as on the receipt

    pdf = render_pdf(report, instance)
    reader = PdfReader(io.BytesIO(pdf))
    pages = [(i, re.sub(r"[\s\x00]+", "", p.extract_text()), p) for i, p in enumerate(reader.pages)]
    with_plans = [(i, p) for i, text, p in pages if "户型图问题标注" in text]
    assert len(with_plans) == 1
    i, page = with_plans[0]
    text = pages[i][1]
    assert "1栋1单元102·A002" in text and "2栋1单元203·A004" in text
    images = page.images
    assert len(images) == 1  # the one plan file, embedded once, drawn for each unit
    assert page.get_contents().get_data().count(b" Do") == 2
    assert images[0].image.size == (800, 500)
    assert "客厅·平面图左上" in "".join(t for _i, t, _p in pages)
    # without the files folder (e.g. a test of the figures) the PDF has no plans
    assert "户型图问题标注" not in re.sub(
        r"\s",
        "",
        "".join(p.extract_text() for p in PdfReader(io.BytesIO(render_pdf(report))).pages),
    )

    # A picture of that page, to look at (test-artifacts/, as the browser tests' screenshots).
    import pypdfium2 as pdfium

    doc = pdfium.PdfDocument(pdf)
    png = doc[i].render(scale=2).to_pil()
    doc.close()
    out = Path(__file__).resolve().parent.parent / "test-artifacts"
    out.mkdir(exist_ok=True)
    png.save(out / "daily-report-plans.png")
    # the pins are red dots on the plan (the plan itself is black and white)
    colours = png.convert("RGB").getcolors(maxcolors=1 << 24)
    red = sum(n for n, (r, g, b) in colours if r > 180 and g < 80 and b < 80)
    assert red > 200
    Image.open(out / "daily-report-plans.png").verify()
