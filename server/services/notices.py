"""Printable handover notices (交房通知书): one A4 page per unit of a day (or one batch of it),
addressed to its owners, with the signed QR code the kiosk scans."""

from __future__ import annotations

import io
import logging
from datetime import date

import qrcode
from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from server.engine import NotFound
from server.models import Appointment, DocumentType, Project, Unit, UnitOwner
from server.pdf import FONT, new_document, to_bytes

from . import notice_codes

WEEKDAYS = "一二三四五六日"
logging.getLogger("fontTools").setLevel(logging.WARNING)  # fpdf2's subsetting chatter
# One face only: the font ships no bold, and a second ("B") style would embed the subset twice.
# Always asked for, whatever the project's document list says.
ALWAYS_BRING = (
    "本通知书（签到时扫描二维码）",
    "全体业主身份证原件",
)
AGENT_NOTE = "业主本人不能到场的，受托人请携带经公证的授权委托书及受托人身份证原件。"
FEES_NOTE = "需缴纳的物业费、专项维修资金等款项，现场可刷卡或扫码支付。"


def batches(session: Session, project_id: int) -> list[tuple[date, str | None, int]]:
    """(day, batch, units) of the project's appointments, for the admin's notice page."""
    rows = session.execute(
        select(Appointment.day, Appointment.batch, Appointment.id)
        .where(Appointment.project_id == project_id)
        .order_by(Appointment.day, Appointment.slot_start)
    ).all()
    out: dict[tuple[date, str | None], int] = {}
    for day, batch, _ in rows:
        out[(day, batch)] = out.get((day, batch), 0) + 1
    return [(d, b, n) for (d, b), n in out.items()]


def _qr_png(text: str) -> io.BytesIO:
    img = qrcode.make(text, error_correction=qrcode.constants.ERROR_CORRECT_M, border=2)
    buf = io.BytesIO()
    img.save(buf, format="PNG")
    buf.seek(0)
    return buf


def _what_to_bring(session: Session, project_id: int) -> list[str]:
    docs = session.scalars(
        select(DocumentType)
        .where(
            DocumentType.project_id == project_id,
            DocumentType.step_code == "verify",
            DocumentType.agent_only.is_(False),
        )
        .order_by(DocumentType.sort, DocumentType.id)
    ).all()
    items = list(ALWAYS_BRING)
    for d in docs:
        if d.code != "id_card" and d.code != "power_of_attorney":
            items.append(f"{d.name_zh}原件" + ("" if d.required else "（如有）"))
    return items


def notices_pdf(
    session: Session,
    *,
    project_id: int,
    day: date,
    secret: str,
    batch: str | None = None,
    limit: int | None = None,
) -> tuple[bytes, int]:
    """(PDF, pages); `limit`: the first pages only (a preview before printing hundreds).
    Raises NotFound when no appointment matches."""
    project = session.get(Project, project_id)
    stmt = (
        select(Appointment)
        .where(Appointment.project_id == project_id, Appointment.day == day)
        .options(
            selectinload(Appointment.unit).selectinload(Unit.owners).selectinload(UnitOwner.owner),
            selectinload(Appointment.unit).selectinload(Unit.building),
        )
        .order_by(Appointment.slot_start, Appointment.unit_id)
    )
    if batch:
        stmt = stmt.where(Appointment.batch == batch)
    if limit:
        stmt = stmt.limit(limit)
    appointments = session.scalars(stmt).all()
    if not appointments:
        raise NotFound("no_notices", "No appointments on that day (or in that batch).")
    bring = _what_to_bring(session, project_id)
    pdf = new_document(title=f"{project.name} 交房通知书 {day.isoformat()}")
    pdf.set_auto_page_break(auto=False)
    for appt in appointments:
        _page(pdf, project, appt, notice_codes.sign(secret, project.code, appt.unit_id), bring)
    return to_bytes(pdf), len(appointments)


def _page(pdf, project: Project, appt: Appointment, code: str, bring: list[str]) -> None:
    unit = appt.unit
    pdf.add_page()
    w = pdf.w - 40
    pdf.set_xy(20, 18)
    pdf.set_font(FONT, size=11)
    pdf.set_text_color(90, 90, 90)
    pdf.cell(w, 6, project.name, align="C")
    pdf.set_xy(20, 26)
    pdf.set_text_color(0, 0, 0)
    pdf.set_font(FONT, size=22)
    pdf.cell(w, 12, "交房通知书", align="C")

    names = "、".join(link.owner.name for link in unit.owners) or "业主"
    pdf.set_font(FONT, size=12)
    pdf.set_xy(20, 46)
    pdf.cell(w, 7, f"尊敬的 {names} 先生/女士：")
    pdf.set_xy(20, 55)
    pdf.multi_cell(
        w,
        7,
        f"　　您购买的{project.name} {unit.label} 已具备交付条件。"
        "请您按下列时间携带相关资料到现场办理交房手续。",
        align="L",
    )

    # The facts, big enough to read at a glance, beside the QR code.
    weekday = WEEKDAYS[appt.day.weekday()]
    facts = [
        ("房号", unit.label),
        ("交房日期", f"{appt.day.year}年{appt.day.month}月{appt.day.day}日（星期{weekday}）"),
        ("签到时段", f"{appt.slot_start:%H:%M}–{appt.slot_end:%H:%M}"),
        ("批次", appt.batch or "—"),
        ("地点", project.venue or "—"),
    ]
    if project.address:
        facts.append(("地址", project.address))
    y = 76
    for label, value in facts:
        pdf.set_xy(20, y)
        pdf.set_font(FONT, size=11)
        pdf.set_text_color(90, 90, 90)
        pdf.cell(26, 9, label)
        pdf.set_text_color(0, 0, 0)
        pdf.set_font(FONT, size=14)
        pdf.multi_cell(w - 26 - 62, 9, value, align="L")
        y = max(y + 11, pdf.get_y() + 2)

    qr_x, qr_y, qr_size = pdf.w - 20 - 58, 74, 58
    pdf.image(_qr_png(code), x=qr_x, y=qr_y, w=qr_size, h=qr_size)
    pdf.set_font(FONT, size=9)
    pdf.set_xy(qr_x - 4, qr_y + qr_size + 1)
    pdf.cell(qr_size + 8, 5, "签到二维码：到场后在签到机扫描", align="C")

    y = max(y, qr_y + qr_size + 10) + 4
    pdf.set_draw_color(200, 200, 200)
    pdf.line(20, y, pdf.w - 20, y)
    pdf.set_xy(20, y + 4)
    pdf.set_font(FONT, size=13)
    pdf.cell(w, 8, "请携带")
    pdf.set_font(FONT, size=12)
    pdf.set_y(y + 13)
    for i, item in enumerate(bring, start=1):
        pdf.set_x(24)
        pdf.multi_cell(w - 4, 7, f"{i}. {item}", align="L")
    pdf.set_x(24)
    pdf.multi_cell(w - 4, 7, f"{len(bring) + 1}. {FEES_NOTE}", align="L")
    pdf.ln(2)
    pdf.set_x(20)
    pdf.set_font(FONT, size=11)
    pdf.multi_cell(w, 6.5, AGENT_NOTE, align="L")
    pdf.ln(2)
    pdf.set_x(20)
    pdf.multi_cell(
        w,
        6.5,
        "未能按约定时间到场的，请提前联系我们改约；未到场亦可在交付期内到现场服务台办理。",
        align="L",
    )

    pdf.set_xy(20, pdf.h - 40)
    pdf.set_font(FONT, size=11)
    contact = "、".join(x for x in (project.contact_name, project.contact_phone) if x)
    if contact:
        pdf.cell(w, 7, f"咨询电话：{contact}")
    pdf.set_xy(20, pdf.h - 32)
    pdf.cell(w, 7, f"{project.name} 交付工作组", align="R")
    pdf.set_font(FONT, size=8)
    pdf.set_text_color(130, 130, 130)
    pdf.set_xy(20, pdf.h - 20)
    pdf.cell(w, 5, f"通知书编号 {code}", align="C")
    pdf.set_text_color(0, 0, 0)
