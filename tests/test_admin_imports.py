"""Imports from the sales system's spreadsheets: good files, files with errors (nothing
applied, every error listed), GBK CSV, XLSX with several sheets, re-import without duplicates."""

from __future__ import annotations

import io

import openpyxl
import pytest
from sqlalchemy import func, select

from server.models import (
    Appointment,
    KnownIssue,
    Owner,
    Project,
    Staff,
    StandardResponse,
    Unit,
    UnitFee,
    UnitKeyItem,
    UnitOwner,
)
from server.services.actor import Actor
from server.services.imports import run_import
from server.services.imports.rows import id_check_digit
from server.services.imports.templates import workbook_bytes

ADMIN = Actor(staff_id=None, role="admin", name="t")


def valid_id(first17: str) -> str:
    return first17 + id_check_digit(first17)


ID1 = valid_id("44010619800101123")
ID2 = valid_id("44010619820202456")


def workbook(**sheets) -> bytes:
    """The downloadable template, filled in like a customer would."""
    book = openpyxl.load_workbook(io.BytesIO(workbook_bytes()))
    for name, rows in sheets.items():
        for row in rows:
            book[name].append(row)
    buf = io.BytesIO()
    book.save(buf)
    return buf.getvalue()


GOOD = dict(
    房源=[
        ["3", "2", "1201", 12, 120.5, "A1"],
        ["3栋", "2单元", "1202", None, 89, "B2", "B2户型", "SALES-3-2-1202"],
    ],
    业主=[
        ["3", "2", "1201", "张伟", ID1, "13800138000", 1],
        ["3", "2", "1201", "李娜", ID2, "13900139000", 2],
    ],
    预约=[["3", "2", "1201", "2026-11-28", "09:00-10:00", None, None, "第一批"]],
    费用=[
        ["3", "2", "1201", "物业费（预收一年）", "3,560.50"],
        ["3", "2", "1202", "专项维修资金", 8000],
    ],
    钥匙=[["3", "2", "1201", "门禁卡", 2, "A001,A002"]],
    员工=[["wang.li", "王丽", "员工", "客服部", "password-1"]],
    统一说辞=[["外墙色差", "外墙真石漆为分批次生产……"]],
    已知问题=[["3", "2", "1201", "客厅墙面裂缝", "客厅", None, "第一轮模拟验收", "未整改"]],
)


@pytest.fixture
def project(database):
    with database.session() as s:
        p = Project(code="imp", name="导入测试")
        s.add(p)
        s.commit()
        return p.id


def count(s, model) -> int:
    return s.scalar(select(func.count()).select_from(model))


def test_dry_run_shows_what_would_change_and_changes_nothing(database, project):
    with database.session() as s:
        report = run_import(
            s, project_id=project, filename="v.xlsx", data=workbook(**GOOD), actor=ADMIN
        )
        assert report.ok and not report.applied
        by_kind = {r.kind: r for r in report.results}
        assert by_kind["units"].created == 2
        assert by_kind["owners"].created == 2
        assert by_kind["fees"].created == 2
        assert "3栋2单元1201" in by_kind["units"].samples[0][2]
        assert count(s, Unit) == 0 and count(s, Owner) == 0 and count(s, Staff) == 0


def test_apply_then_reimport_updates_without_duplicates(database, project):
    data = workbook(**GOOD)
    with database.session() as s:
        report = run_import(
            s, project_id=project, filename="v.xlsx", data=data, actor=ADMIN, dry_run=False
        )
        assert report.applied, report.errors
    with database.session() as s:
        owner = s.scalar(select(Owner).where(Owner.id_number == ID1))
        assert (owner.id_last4, owner.id_last6) == (ID1[-4:], ID1[-6:])
        # The sales system's own notice code is kept (the printed notices carry it).
        assert s.scalar(select(Unit.notice_code).where(Unit.room == "1202")) == "SALES-3-2-1202"
        unit = s.scalar(select(Unit).where(Unit.room == "1201"))
        assert unit.floor == 12 and unit.building.code == "3" and unit.notice_code
        links = s.scalars(select(UnitOwner).where(UnitOwner.unit_id == unit.id)).all()
        assert sorted(lk.position for lk in links) == [0, 1]
        fee = s.scalar(select(UnitFee).where(UnitFee.unit_id == unit.id))
        assert str(fee.amount) == "3560.50"
        assert s.scalar(select(UnitKeyItem.serials)) == "A001,A002"
        appt = s.scalar(select(Appointment))
        assert appt.slot_start.hour == 9 and appt.batch == "第一批"
        code_before = unit.notice_code

    # The same file again, one phone and one amount changed: updates, no new rows.
    changed = dict(GOOD)
    changed["业主"] = [[*GOOD["业主"][0][:5], "13700137000", 1], GOOD["业主"][1]]
    changed["费用"] = [[*GOOD["费用"][0][:4], "3600"], GOOD["费用"][1]]
    with database.session() as s:
        report = run_import(
            s,
            project_id=project,
            filename="v2.xlsx",
            data=workbook(**changed),
            actor=ADMIN,
            dry_run=False,
        )
        assert report.applied, report.errors
        by_kind = {r.kind: r for r in report.results}
        assert (by_kind["owners"].created, by_kind["owners"].updated) == (0, 1)
        assert (by_kind["units"].created, by_kind["units"].unchanged) == (0, 2)
        assert by_kind["fees"].updated == 1
        assert by_kind["responses"].unchanged == 1
        assert by_kind["issues"].unchanged == 1
    with database.session() as s:
        assert count(s, Unit) == 2 and count(s, Owner) == 2 and count(s, UnitOwner) == 2
        assert count(s, UnitFee) == 2 and count(s, Appointment) == 1
        assert count(s, StandardResponse) == 1 and count(s, Staff) == 1
        assert count(s, KnownIssue) == 1
        assert s.scalar(select(Owner.phone).where(Owner.id_number == ID1)) == "13700137000"
        assert s.scalar(select(Unit.notice_code).where(Unit.room == "1201")) == code_before


def test_a_file_with_errors_applies_nothing_and_lists_every_error(database, project):
    bad = dict(GOOD)
    bad["业主"] = [
        ["3", "2", "1201", "张伟", ID1[:-1] + ("0" if ID1[-1] != "0" else "1"), "13800138000"],
        ["3", "2", "1201", "李娜", ID2, "12345"],
        ["9", "9", "999", "赵六", valid_id("11010519491231002"), None],
    ]
    bad["预约"] = [["3", "2", "1201", "明天", "9点到10点"]]
    with database.session() as s:
        report = run_import(
            s,
            project_id=project,
            filename="bad.xlsx",
            data=workbook(**bad),
            actor=ADMIN,
            dry_run=False,
        )
        assert not report.applied
        found = {(e.sheet, e.row, e.column) for e in report.errors}
        assert ("业主", 2, "身份证号*") in found  # check digit
        assert ("业主", 3, "手机号") in found
        assert ("业主", 4, "房号") in found  # unit not in the file nor the project
        assert any(e.sheet == "预约" and e.row == 2 for e in report.errors)
        assert count(s, Unit) == 0 and count(s, Staff) == 0  # the good sheets were not applied


def test_gbk_csv_with_english_headers_and_chinese_text(database, project):
    units = b"Building,Entrance,Room,Area m2\n5,1,0301,95.5\n5,1,0302,95.5\n"
    owners = (
        f"楼栋,单元,房号,业主姓名,证件号码,联系电话\n5,1,0301,欧阳娜娜,{ID1},13800138000\n"
    ).encode("gbk")
    with database.session() as s:
        r1 = run_import(
            s, project_id=project, filename="units.csv", data=units, actor=ADMIN, dry_run=False
        )
        assert r1.applied, r1.errors
    with database.session() as s:
        r2 = run_import(
            s, project_id=project, filename="owners.csv", data=owners, actor=ADMIN, dry_run=False
        )
        assert r2.applied, r2.errors
        assert r2.results[0].kind == "owners"
        assert s.scalar(select(Owner.name)) == "欧阳娜娜"
        assert s.scalar(select(Unit.floor).where(Unit.room == "0301")) == 3


def test_missing_column_and_unknown_sheet_are_errors(database, project):
    data = "楼栋,单元\n1,1\n".encode()
    with database.session() as s:
        report = run_import(
            s, project_id=project, filename="units.csv", data=data, actor=ADMIN, dry_run=False
        )
        assert [e.column for e in report.errors] == ["房号"]


def test_same_id_number_with_two_names_and_duplicate_rows_are_errors(database, project):
    rows = dict(GOOD)
    rows["房源"] = GOOD["房源"] + [["3", "2", "1201"]]
    rows["业主"] = [GOOD["业主"][0], ["3", "2", "1202", "张卫", ID1, "13800138000"]]
    with database.session() as s:
        report = run_import(
            s, project_id=project, filename="d.xlsx", data=workbook(**rows), actor=ADMIN
        )
        found = {(e.sheet, e.row, e.message) for e in report.errors}
        assert ("房源", 4, "Same as row %(row)s.") in found
        assert ("业主", 3, "Same ID number as row %(row)s but another name.") in found


def test_counters_import_with_their_steps(database, project):
    from server.models import Counter, Step

    with database.session() as s:
        for i, (code, zh) in enumerate((("verify", "资料审核"), ("fees", "收费确认"))):
            s.add(Step(project_id=project, code=code, name_zh=zh, name_en=code, sort=i))
        s.commit()
    rows = [
        [f"W{n:02d}", f"{n}号窗口", None, "资料审核、fees", "A区", "大厅A区"] for n in range(1, 41)
    ]
    rows.append(["W41", "41号窗口", None, "验房"])
    with database.session() as s:
        report = run_import(
            s,
            project_id=project,
            filename="c.xlsx",
            data=workbook(窗口=rows),
            actor=ADMIN,
            dry_run=False,
        )
        assert [(e.row, e.message) for e in report.errors] == [(42, "Unknown step: %(name)s")]
    with database.session() as s:
        report = run_import(
            s,
            project_id=project,
            filename="c.xlsx",
            data=workbook(窗口=rows[:40]),
            actor=ADMIN,
            dry_run=False,
        )
        assert report.applied and report.results[0].created == 40
        c = s.scalar(select(Counter).where(Counter.code == "W07"))
        assert [st.code for st in c.steps] == ["verify", "fees"] and c.location_zh == "大厅A区"


def _plan_png(color=(30, 30, 30)) -> bytes:
    from PIL import Image

    buf = io.BytesIO()
    Image.new("RGB", (600, 400), color).save(buf, "PNG")
    return buf.getvalue()


def _plan_pdf() -> bytes:
    from fpdf import FPDF

    pdf = FPDF(unit="pt", format=(600, 400))
    pdf.add_page()
    pdf.rect(20, 20, 560, 360)
    return bytes(pdf.output())


def bundle(files: dict[str, bytes], gbk_names: bool = False) -> bytes:
    """A ZIP as an admin would make it; `gbk_names`: names in GBK bytes without the UTF-8
    flag, as Windows' own "compressed folder" writes Chinese names."""
    import zipfile

    buf = io.BytesIO()
    swaps = []
    with zipfile.ZipFile(buf, "w") as z:
        for i, (name, data) in enumerate(files.items()):
            if gbk_names:
                raw = name.encode("gbk")
                placeholder = f"@@{i}@@".ljust(len(raw), "~").encode()
                swaps.append((placeholder, raw))
                name = placeholder.decode()
            z.writestr(name, data)
    out = buf.getvalue()
    for placeholder, raw in swaps:  # in the local header and the central directory
        assert out.count(placeholder) == 2
        out = out.replace(placeholder, raw)
    return out


def _plans(s) -> dict[str, int | None]:
    from server.models import UnitType

    return {t.code: t.floor_plan_file_id for t in s.scalars(select(UnitType))}


def test_a_zip_brings_the_floor_plans_with_the_units(database, project, tmp_path):
    from server.models import StoredFile

    units = {"房源": GOOD["房源"]}
    data = bundle(
        {
            "交付导入/房源.xlsx": workbook(**units),
            "交付导入/户型图/A1.png": _plan_png(),
            "交付导入/户型图/B2.pdf": _plan_pdf(),
        }
    )
    with database.session() as s:
        dry = run_import(
            s,
            project_id=project,
            filename="交付.zip",
            data=data,
            actor=ADMIN,
            instance_path=tmp_path,
        )
        assert dry.ok, [(e.sheet, e.message) for e in dry.errors]
        plans = {r.kind: r for r in dry.results}["floor_plans"]
        assert (plans.rows, plans.created) == (2, 2)
        assert count(s, Unit) == 0 and count(s, StoredFile) == 0
        assert not (tmp_path / "files").exists()  # a dry run stores no file

        done = run_import(
            s,
            project_id=project,
            filename="交付.zip",
            data=data,
            actor=ADMIN,
            dry_run=False,
            instance_path=tmp_path,
        )
        assert done.applied
        ids = _plans(s)
        assert set(ids) == {"A1", "B2"} and all(ids.values())
        b2 = s.get(StoredFile, ids["B2"])
        assert b2.mime == "image/png" and (b2.width, b2.height) == (2400, 1600)  # the PDF page
        assert (tmp_path / b2.path).is_file()
        # the same ZIP again: nothing changes
        again = run_import(
            s,
            project_id=project,
            filename="交付.zip",
            data=data,
            actor=ADMIN,
            dry_run=False,
            instance_path=tmp_path,
        )
        assert {r.kind: r for r in again.results}["floor_plans"].unchanged == 2
        assert _plans(s) == ids


def test_a_zip_with_a_bad_plan_or_an_unknown_unit_type_imports_nothing(database, project, tmp_path):
    from server.i18n import translate

    data = bundle(
        {
            "房源.xlsx": workbook(房源=GOOD["房源"]),
            "户型图/A1.png": _plan_png(),
            "户型图/C9.png": _plan_png(),  # no unit type C9
            "户型图/B2.pdf": b"%PDF-1.7 broken",
            "说明.docx": b"word",
        },
        gbk_names=True,
    )
    with database.session() as s:
        report = run_import(
            s,
            project_id=project,
            filename="交付.zip",
            data=data,
            actor=ADMIN,
            dry_run=False,
            instance_path=tmp_path,
        )
        assert not report.applied
        shown = {e.sheet: translate(e.message, "zh_CN", e.params or None) for e in report.errors}
        assert set(shown) == {"户型图/C9.png", "户型图/B2.pdf", "说明.docx"}  # GBK names read
        assert "没有户型 C9" in shown["户型图/C9.png"]
        assert "无法读取该 PDF" in shown["户型图/B2.pdf"]
        assert count(s, Unit) == 0 and _plans(s) == {}  # nothing half-applied


def test_import_page_takes_a_zip_and_explains_it(app, venue, admin_client):
    import re

    page = admin_client.get("/admin/imports").get_data(as_text=True)
    assert ".zip" in page and "A2.png" in page and "户型" in page
    csv = "楼栋,单元,房号,户型\n8,1,101,D4\n".encode()
    data = bundle({"units.csv": csv, "D4.png": _plan_png()})
    r = admin_client.post(
        "/admin/imports",
        data={"file": (io.BytesIO(data), "units.zip")},
        content_type="multipart/form-data",
    )
    html = r.get_data(as_text=True)
    assert r.status_code == 200 and "户型图" in html, html[:2000]
    token = re.search(r'name="token" value="([^"]+)"', html).group(1)
    r = admin_client.post("/admin/imports", data={"token": token, "apply": "1"})
    assert r.status_code == 200 and "已导入" in r.get_data(as_text=True)
    with app.extensions["handover_db"].session() as s:
        assert _plans(s)["D4"] is not None
    bad = bundle({"units.csv": csv, "E5.png": _plan_png()})
    r = admin_client.post(
        "/admin/imports",
        data={"file": (io.BytesIO(bad), "units.zip")},
        content_type="multipart/form-data",
    )
    assert r.status_code == 422 and "没有户型 E5" in r.get_data(as_text=True)
