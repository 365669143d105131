"""Admin: owners with their personal data masked (full only for an admin on the detail page,
audited), the marked and logged owner export, and the audit log browser."""

from __future__ import annotations

import csv
import io
from datetime import datetime, time

from flask import Blueprint, Response, abort, render_template, request
from sqlalchemy import func, or_, select

from server import auth, clock
from server.auth import require
from server.i18n import request_locale, translate
from server.models import AuditLog, Device, Owner, Staff, Unit, UnitOwner
from server.services import audit, privacy
from server.web import db_session, project_id

bp = Blueprint("admin_privacy", __name__)
PAGE_SIZE = 50


def _page() -> int:
    try:
        return max(1, int(request.args.get("page", "1")))
    except ValueError:
        return 1


@bp.get("/admin/owners")
@require("supervisor", page=True)
def owners():
    s = db_session()
    q = (request.args.get("q") or "").strip()[:40]
    stmt = select(Owner).where(Owner.project_id == project_id())
    if q:
        # Searching by a whole phone or ID number works; the list still shows them masked.
        stmt = stmt.where(
            or_(Owner.name.contains(q), Owner.phone == q, Owner.id_number == q.upper())
        )
    total = s.scalar(select(func.count()).select_from(stmt.subquery()))
    page = _page()
    rows = s.scalars(stmt.order_by(Owner.id).offset((page - 1) * PAGE_SIZE).limit(PAGE_SIZE)).all()
    units = {}
    if rows:
        for owner_id, unit in s.execute(
            select(UnitOwner.owner_id, Unit)
            .join(Unit, Unit.id == UnitOwner.unit_id)
            .where(UnitOwner.owner_id.in_([o.id for o in rows]))
        ):
            units.setdefault(owner_id, []).append(unit.label)
    return render_template(
        "admin/owners.html",
        page_title=translate("Owners", request_locale()),
        owners=rows,
        units=units,
        q=q,
        page=page,
        pages=max(1, -(-total // PAGE_SIZE)),
        total=total,
        mask_phone=privacy.mask_phone,
        mask_id=privacy.mask_id,
    )


@bp.get("/admin/owners/<int:owner_id>")
@require("supervisor", page=True)
def owner_detail(owner_id: int):
    s = db_session()
    owner = s.get(Owner, owner_id)
    if owner is None or owner.project_id != project_id():
        abort(404)
    actor = auth.current_actor()
    full = privacy.may_see_full(actor)
    if full:
        # Who looked at whose full ID number, and when.
        audit.record(s, actor, "owner.view_personal_data", "owner", owner.id)
        s.commit()
        owner = s.get(Owner, owner_id)
    units = s.scalars(
        select(Unit)
        .join(UnitOwner, UnitOwner.unit_id == Unit.id)
        .where(UnitOwner.owner_id == owner.id)
    ).all()
    return render_template(
        "admin/owner_detail.html",
        page_title=translate("Owner", request_locale()),
        owner=owner,
        units=units,
        full=full,
        phone=owner.phone if full else privacy.mask_phone(owner.phone),
        id_number=owner.id_number if full else privacy.mask_id(owner.id_number),
    )


@bp.get("/admin/owners/export.csv")
@require("admin", page=True)
def owners_export():
    """Holds full phone and ID numbers: the file says so in its name and first line, and the
    export is audited."""
    s = db_session()
    rows = s.execute(
        select(Owner, Unit)
        .join(UnitOwner, UnitOwner.owner_id == Owner.id)
        .join(Unit, Unit.id == UnitOwner.unit_id)
        .where(Owner.project_id == project_id())
        .order_by(Unit.id, UnitOwner.position)
    ).all()
    buf = io.StringIO()
    w = csv.writer(buf)
    w.writerow(
        ["含业主个人信息（手机号、身份证号），仅限工作使用，请勿外传 / CONTAINS PERSONAL DATA"]
    )
    w.writerow(["楼栋", "单元", "房号", "姓名", "身份证号", "手机号"])
    for owner, unit in rows:
        w.writerow(
            [
                unit.building.code,
                unit.entrance,
                unit.room,
                owner.name,
                owner.id_number or "",
                owner.phone or "",
            ]
        )
    audit.record(
        s,
        auth.current_actor(),
        "export.owners",
        "project",
        project_id(),
        rows=len(rows),
        personal_data=True,
    )
    s.commit()
    stamp = clock.now().strftime("%Y%m%d-%H%M")
    return Response(
        buf.getvalue().encode("utf-8-sig"),
        mimetype="text/csv; charset=utf-8",
        headers={
            "Content-Disposition": f"attachment; filename=owners-PERSONAL-DATA-{stamp}.csv",
            "Cache-Control": "no-store",
        },
    )


def _day(name: str):
    value = (request.args.get(name) or "").strip()
    try:
        return datetime.strptime(value, "%Y-%m-%d").date() if value else None
    except ValueError:
        return None


@bp.get("/admin/audit")
@require("admin", page=True)
def audit_log():
    s = db_session()
    f = {k: (request.args.get(k) or "").strip()[:60] for k in ("who", "action", "entity", "device")}
    since, until = _day("since"), _day("until")
    stmt = (
        select(AuditLog, Staff.display_name, Staff.username, Device.name)
        .outerjoin(Staff, Staff.id == AuditLog.staff_id)
        .outerjoin(Device, Device.id == AuditLog.device_id)
    )
    if f["who"]:
        stmt = stmt.where(or_(Staff.username == f["who"], Staff.display_name.contains(f["who"])))
    if f["action"]:
        stmt = stmt.where(AuditLog.action.startswith(f["action"]))
    if f["entity"]:
        stmt = stmt.where(AuditLog.entity == f["entity"])
    if f["device"]:
        stmt = stmt.where(Device.name.contains(f["device"]))
    if since:
        stmt = stmt.where(AuditLog.at >= datetime.combine(since, time.min))
    if until:
        stmt = stmt.where(AuditLog.at <= datetime.combine(until, time.max))
    page = _page()
    rows = s.execute(
        stmt.order_by(AuditLog.id.desc()).offset((page - 1) * PAGE_SIZE).limit(PAGE_SIZE + 1)
    ).all()
    actions = s.scalars(select(AuditLog.action).distinct().order_by(AuditLog.action)).all()
    entities = s.scalars(select(AuditLog.entity).distinct().order_by(AuditLog.entity)).all()
    return render_template(
        "admin/audit.html",
        page_title=translate("Audit log", request_locale()),
        rows=rows[:PAGE_SIZE],
        has_more=len(rows) > PAGE_SIZE,
        page=page,
        f=f,
        since=request.args.get("since", ""),
        until=request.args.get("until", ""),
        actions=actions,
        entities=entities,
    )
