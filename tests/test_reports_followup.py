"""After the day: follow-up cases (find-or-create, roles, auto-close), urging letters (recorded,
never twice by mistake), the summary table, and the report pages over HTTP."""

from __future__ import annotations

import io
import re
from datetime import date, timedelta

import pytest
from openpyxl import load_workbook
from pypdf import PdfReader
from sqlalchemy import delete, func, select

from server import clock
from server.engine import Forbidden, Invalid
from server.models import (
    Appointment,
    AuditLog,
    CaseNote,
    FollowUpCase,
    StoredFile,
    Unit,
    UrgingLetter,
)
from server.reports.summary import build_summary
from server.services import followup, letters
from server.services.actor import Actor
from tests.conftest import login
from tests.report_day import DAY, build_report_day


def pdf_text(data: bytes) -> list[str]:
    return [re.sub(r"[\s\x00]+", "", p.extract_text()) for p in PdfReader(io.BytesIO(data)).pages]


@pytest.fixture
def day(database):
    s = database.factory()
    d = build_report_day(s)
    # u11 never gets an appointment: a "not appointed" case.
    s.execute(delete(Appointment).where(Appointment.unit_id == d.units["u11"]))
    s.commit()
    yield s, d
    s.close()


def actor(d, role):
    return Actor(staff_id=d.staff[role], role=role)


def cases(s):
    return sorted(
        (s.get(Unit, c.unit_id).room, c.kind, c.department, c.reason)
        for c in s.scalars(select(FollowUpCase))
    )


def test_cases_for_every_unit_not_handed_over_once(day):
    s, d = day
    # The inspection screen already opened the refusal's case.
    followup.find_or_create(
        s,
        project_id=d.project_id,
        unit_id=d.units["u2"],
        kind="refused",
        reason="拒收",
        opened_on=DAY,
        visit_id=d.visits["V3"],
    )
    s.commit()
    result = followup.open_cases_after_day(
        s, project_id=d.project_id, day=DAY, actor=actor(d, "supervisor")
    )
    assert result.created == {"refused": 0, "no_show": 2, "unfinished": 2, "not_appointed": 1}
    assert result.existing == 1
    assert cases(s) == [
        ("103", "refused", "engineering", "拒收"),
        ("104", "no_show", "customer_service", "预约 2026-11-27 09:00–10:00，未到场"),
        ("203", "unfinished", "customer_service", "当日结束时仍在钥匙交接"),
        ("204", "no_show", "customer_service", "预约 2026-11-27 10:00–11:00，未到场"),
        ("303", "unfinished", "customer_service", "办理取消：业主临时离开"),
        ("304", "not_appointed", "customer_service", "该房屋未预约"),
    ]
    again = followup.open_cases_after_day(
        s, project_id=d.project_id, day=DAY, actor=actor(d, "supervisor")
    )
    assert again.total_created == 0 and again.existing == 6
    assert s.scalar(select(func.count()).select_from(FollowUpCase)) == 6
    # A unit handed over later: its open case closes itself, with a note.
    s.get(Unit, d.units["u3"]).handed_over = True
    s.commit()
    later = followup.open_cases_after_day(
        s, project_id=d.project_id, day=DAY + timedelta(1), actor=actor(d, "supervisor")
    )
    assert later.closed == 1
    closed = s.scalar(select(FollowUpCase).where(FollowUpCase.unit_id == d.units["u3"]))
    assert closed.status == "closed" and closed.notes[-1].text == "已交付，自动关闭"


def test_assign_note_close_by_allowed_roles(day):
    s, d = day
    followup.open_cases_after_day(s, project_id=d.project_id, day=DAY, actor=actor(d, "supervisor"))
    case = s.scalar(select(FollowUpCase).where(FollowUpCase.kind == "no_show").limit(1))
    with pytest.raises(Forbidden):
        followup.assign(
            s,
            project_id=d.project_id,
            case_id=case.id,
            staff_id=d.staff["staff"],
            department="engineering",
            actor=actor(d, "staff"),
        )
    followup.assign(
        s,
        project_id=d.project_id,
        case_id=case.id,
        staff_id=d.staff["staff"],
        department="engineering",
        actor=actor(d, "supervisor"),
    )
    followup.add_note(
        s,
        project_id=d.project_id,
        case_id=case.id,
        text="已电话联系，约下周",
        actor=actor(d, "staff"),
    )
    assert (case.status, case.department, case.assigned_to_id) == (
        "in_progress",
        "engineering",
        d.staff["staff"],
    )
    with pytest.raises(Invalid):
        followup.close(
            s, project_id=d.project_id, case_id=case.id, note=" ", actor=actor(d, "supervisor")
        )
    with pytest.raises(Forbidden):
        followup.close(
            s, project_id=d.project_id, case_id=case.id, note="已交付", actor=actor(d, "staff")
        )
    followup.close(
        s, project_id=d.project_id, case_id=case.id, note="业主已办理", actor=actor(d, "supervisor")
    )
    s.refresh(case)
    assert case.status == "closed" and case.closed_by_id == d.staff["supervisor"]
    assert [n.text for n in case.notes] == ["已电话联系，约下周", "业主已办理"]


def test_urging_letters_recorded_and_never_twice_by_mistake(day, tmp_path):
    s, d = day
    followup.open_cases_after_day(s, project_id=d.project_id, day=DAY, actor=actor(d, "supervisor"))
    no_shows = s.scalars(
        select(FollowUpCase).where(FollowUpCase.kind == "no_show").order_by(FollowUpCase.id)
    ).all()
    with pytest.raises(Invalid):
        letters.save_template(
            s,
            project_id=d.project_id,
            title="催告函",
            body="{owner} {bogus}",
            actor=actor(d, "admin"),
        )
    letters.save_template(
        s,
        project_id=d.project_id,
        title="交房催告函",
        body="尊敬的{owner}：请于{deadline}前办理{unit}交房。电话{contact_phone}",
        actor=actor(d, "admin"),
    )
    deadline = date.today() + timedelta(days=15)
    pdf, rows = letters.send_letters(
        s,
        project_id=d.project_id,
        case_ids=[c.id for c in no_shows],
        deadline=deadline,
        actor=actor(d, "supervisor"),
        instance_path=tmp_path,
    )
    pages = pdf_text(pdf)
    assert len(pages) == 2
    assert "交房催告函" in pages[0] and "尊敬的王小3" in pages[0] and "1栋1单元104" in pages[0]
    assert f"{deadline.year}年{deadline.month}月{deadline.day}日" in pages[0]
    assert "尊敬的王大7" in pages[1]
    assert [(r.sent_on, r.staff_id) for r in rows] == [(clock.today(), d.staff["supervisor"])] * 2
    assert (tmp_path / s.get(StoredFile, rows[0].file_id).path).read_bytes() == pdf
    with pytest.raises(Invalid) as err:
        letters.send_letters(
            s,
            project_id=d.project_id,
            case_ids=[no_shows[0].id],
            deadline=deadline,
            actor=actor(d, "supervisor"),
            instance_path=tmp_path,
        )
    assert err.value.params["date"] == clock.today().isoformat()
    s.rollback()
    letters.send_letters(
        s,
        project_id=d.project_id,
        case_ids=[no_shows[0].id],
        deadline=deadline,
        actor=actor(d, "supervisor"),
        instance_path=tmp_path,
        confirm_resend=True,
    )
    assert (
        s.scalar(
            select(func.count())
            .select_from(UrgingLetter)
            .where(UrgingLetter.case_id == no_shows[0].id)
        )
        == 2
    )
    with pytest.raises(Forbidden):
        letters.send_letters(
            s,
            project_id=d.project_id,
            case_ids=[no_shows[1].id],
            deadline=deadline,
            actor=actor(d, "staff"),
            instance_path=tmp_path,
        )


def test_summary_rows_totals_and_cumulative_progress(day):
    s, d = day
    report = build_summary(s, d.project_id, DAY - timedelta(days=1), DAY)
    t = report.section("days").tables[0]
    assert t.rows == [
        [DAY - timedelta(days=1), 0, 1, 0, 0, 0, 1, 0, 0, 0, 1, 0, 0.0],
        [DAY, 6, 5, 2, 1, 1, 1, 2, 2, 5, 4, 2, 2 / 12],
    ]
    assert t.total == ["合计", 6, 6, 2, 1, 1, 2, 2, 2, 5, 5, 2, 2 / 12]
    assert report.figure("first_time_rate").value == pytest.approx(1 / 3)
    assert report.figure("units").value == 12


# ---- over HTTP ------------------------------------------------------------------------------


@pytest.fixture
def web(app):
    with app.extensions["handover_db"].session() as s:
        d = build_report_day(s)
    return app, d


def test_report_pages_and_exports_over_http(web):
    app, d = web
    staff = app.test_client()
    login(staff, "staff")
    page = staff.get(f"/admin/reports/daily?date={DAY}")
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert "每日交房日报表" in html and "<svg" in html and "138****0003" in html
    assert "13800000003" not in html
    en = staff.get(f"/admin/reports/daily?date={DAY}&lang=en").get_data(as_text=True)
    assert "Daily handover report" in en and "First-time acceptance rate" in en
    assert staff.get("/admin/reports/daily?date=2026-13-01").status_code == 422
    pdf = staff.get(f"/admin/reports/daily.pdf?date={DAY}&lang=zh_CN")  # the choice sticks
    assert pdf.mimetype == "application/pdf" and "每日交房日报表" in "".join(pdf_text(pdf.data))
    # Full contacts: not for staff; for a supervisor, and logged.
    assert staff.get(f"/admin/reports/daily.xlsx?date={DAY}&contacts=full").status_code == 403
    sup = app.test_client()
    login(sup, "supervisor")
    x = sup.get(f"/admin/reports/daily.xlsx?date={DAY}&contacts=full")
    assert x.status_code == 200
    ws = load_workbook(io.BytesIO(x.data))["未到场"]
    assert [c.value for c in ws[5]][:4] == ["1栋1单元104", "09:00–10:00", "王小3", "13800000003"]
    with app.extensions["handover_db"].session() as s:
        logged = s.scalars(select(AuditLog).where(AuditLog.action == "report.export_contacts"))
        assert [(a.staff_id, a.data["day"]) for a in logged] == [
            (d.staff["supervisor"], DAY.isoformat())
        ]
    # Follow-up: run after the day, note, letters (twice refused), XLSX.
    assert staff.post("/admin/reports/followup/run", data={"date": str(DAY)}).status_code == 403
    r = sup.post("/admin/reports/followup/run", data={"date": str(DAY)})
    assert r.status_code == 302
    listing = sup.get("/admin/reports/followup").get_data(as_text=True)
    assert "1栋1单元104" in listing and "普遍性客户诉求" in listing
    with app.extensions["handover_db"].session() as s:
        case_id = s.scalar(select(FollowUpCase.id).where(FollowUpCase.kind == "no_show"))
    assert (
        staff.post(
            f"/admin/reports/followup/{case_id}/note", data={"text": "已短信提醒"}
        ).status_code
        == 302
    )
    deadline = str(date.today() + timedelta(days=10))
    first = sup.post("/admin/reports/letters", data={"case_id": [case_id], "deadline": deadline})
    assert first.mimetype == "application/pdf"
    second = sup.post("/admin/reports/letters", data={"case_id": [case_id], "deadline": deadline})
    assert second.status_code == 422 and "已于" in second.get_data(as_text=True)
    with app.extensions["handover_db"].session() as s:
        assert s.scalar(select(func.count()).select_from(UrgingLetter)) == 1
        assert (
            s.scalar(select(func.count()).select_from(CaseNote).where(CaseNote.case_id == case_id))
            == 2
        )
    wb = load_workbook(io.BytesIO(sup.get("/admin/reports/followup.xlsx").data))
    assert wb.sheetnames[1:] == ["普遍性客户诉求", "未交付房屋"]
    summary = staff.get(f"/admin/reports/summary?from={DAY}&to={DAY}")
    assert summary.status_code == 200 and "交房汇总统计表" in summary.get_data(as_text=True)
    assert staff.get(f"/admin/reports/summary.xlsx?from={DAY}&to={DAY}").status_code == 200
    # The letter template: admins only; an unknown placeholder is refused with its name.
    assert sup.get("/admin/reports/letter-template").status_code == 403
    admin = app.test_client()
    login(admin, "admin")
    assert "{owner}" in admin.get("/admin/reports/letter-template").get_data(as_text=True)
    bad = admin.post("/admin/reports/letter-template", data={"title": "催告函", "body": "{oops}"})
    assert bad.status_code == 422 and "{oops}" in bad.get_data(as_text=True)
    ok = admin.post(
        "/admin/reports/letter-template", data={"title": "催告函", "body": "{owner}您好"}
    )
    assert ok.status_code == 200 and "已保存" in ok.get_data(as_text=True)
