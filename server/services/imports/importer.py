"""Imports the sales system's spreadsheets into the project, all or nothing.

`run_import(..., dry_run=True)` does exactly what applying does inside one transaction, counts
what it created / changed, and rolls back; so the dry run can never disagree with the real
thing. Any row error rolls everything back too. A re-import finds existing rows by stable keys
(unit = building + entrance + room, owner = ID number, staff = user name, fee / key item per
unit and type, appointment per unit and day) and updates them instead of adding duplicates.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import ValidationError
from sqlalchemy import select
from sqlalchemy.orm import Session
from werkzeug.security import check_password_hash

from server.engine import Invalid
from server.models import (
    Appointment,
    Building,
    Counter,
    DefectCategory,
    FeeType,
    KeyItemType,
    KnownIssue,
    Owner,
    Staff,
    StandardResponse,
    Step,
    StoredFile,
    Unit,
    UnitFee,
    UnitKeyItem,
    UnitOwner,
    UnitType,
)
from server.services import audit
from server.services.actor import Actor

from .bundle import PlanFile, unpack
from .reader import Sheet, read_table
from .rows import KINDS, ORDER, CellError, Kind, column_lookup, kind_for_headers, kind_for_name

IGNORED_SHEETS = {"说明", "填写说明", "readme", "instructions"}
SAMPLE_LIMIT = 8


@dataclass
class RowError:
    sheet: str
    row: int
    column: str
    message: str  # English message id, translated when shown
    params: dict[str, Any] = field(default_factory=dict)


@dataclass
class KindResult:
    kind: str
    sheet: str
    rows: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    # A few examples of what changes: (row, "create" | "update", label)
    samples: list[tuple[int, str, str]] = field(default_factory=list)


@dataclass
class ImportReport:
    filename: str
    dry_run: bool
    results: list[KindResult] = field(default_factory=list)
    errors: list[RowError] = field(default_factory=list)
    applied: bool = False

    @property
    def ok(self) -> bool:
        return not self.errors

    def as_dict(self) -> dict[str, Any]:
        return {
            "filename": self.filename,
            "dry_run": self.dry_run,
            "applied": self.applied,
            "results": [r.__dict__ for r in self.results],
            "errors": [e.__dict__ for e in self.errors],
        }


# ---- reading and checking rows -----------------------------------------------------------

_PYDANTIC_MESSAGES = {
    "missing": "Required: please fill it in.",
    "int_parsing": "Must be a whole number.",
    "int_from_float": "Must be a whole number.",
    "float_parsing": "Must be a number.",
    "greater_than": "The number is too small.",
    "greater_than_equal": "The number is too small.",
    "less_than": "The number is too large.",
    "less_than_equal": "The number is too large.",
    "string_too_short": "Required: please fill it in.",
    "string_too_long": "Too long: at most %(max)s characters.",
    "string_pattern_mismatch": "Only letters, digits, - and _ are allowed here.",
    "date_from_datetime_parsing": "Not a date; write it as 2026-11-28.",
    "time_parsing": "Not a time; write it as 09:30.",
}


def _translate_error(err: dict) -> tuple[str, str, dict]:
    """(field, message id, params) of one pydantic error."""
    loc = err.get("loc") or ()
    fieldname = str(loc[0]) if loc else ""
    cause = (err.get("ctx") or {}).get("error")
    if isinstance(cause, CellError):
        return cause.params.get("column", fieldname), cause.msgid, cause.params
    msgid = _PYDANTIC_MESSAGES.get(err.get("type", ""), "Invalid value.")
    params = {}
    if err.get("type") == "string_too_long":
        params["max"] = (err.get("ctx") or {}).get("max_length")
    return fieldname, msgid, params


@dataclass
class _Parsed:
    kind: Kind
    sheet: Sheet
    rows: list[tuple[int, Any]]


def _parse_sheet(sheet: Sheet, kind: Kind, errors: list[RowError]) -> _Parsed:
    lookup = column_lookup(kind)
    by_field: dict[str, int] = {}
    header_of: dict[str, str] = {}
    for index, header in enumerate(sheet.headers):
        from .rows import header_key

        col = lookup.get(header_key(header))
        if col is not None and col.field not in by_field:
            by_field[col.field] = index
            header_of[col.field] = header
    for col in kind.columns:
        header_of.setdefault(col.field, col.zh)
        if col.required and col.field not in by_field:
            errors.append(
                RowError(
                    sheet.name,
                    sheet.header_row,
                    col.zh,
                    "This column is missing (header %(zh)s or %(en)s).",
                    {"zh": col.zh, "en": col.en},
                )
            )
    parsed = _Parsed(kind, sheet, [])
    if any(c.required and c.field not in by_field for c in kind.columns):
        return parsed
    for number, cells in sheet.rows:
        values = {
            f: cells[i] for f, i in by_field.items() if i < len(cells) and cells[i] is not None
        }
        try:
            parsed.rows.append((number, kind.model.model_validate(values)))
        except ValidationError as exc:
            for err in exc.errors():
                fieldname, msgid, params = _translate_error(err)
                errors.append(
                    RowError(sheet.name, number, header_of.get(fieldname, fieldname), msgid, params)
                )
        except CellError as exc:
            errors.append(
                RowError(
                    sheet.name,
                    number,
                    header_of.get(exc.params.get("column", ""), ""),
                    exc.msgid,
                    exc.params,
                )
            )
    return parsed


def parse(
    filename: str, data: bytes, kind: str | None = None
) -> tuple[list[_Parsed], list[RowError]]:
    parsed, errors, _plans = parse_bundle(filename, data, kind)
    return parsed, errors


def parse_bundle(
    filename: str, data: bytes, kind: str | None = None
) -> tuple[list[_Parsed], list[RowError], list[PlanFile]]:
    """The file's sheets checked row by row; a ZIP also gives its floor plan files."""
    bundle = unpack(filename, data)
    errors: list[RowError] = [
        RowError(entry, 0, "", msgid, params) for entry, msgid, params in bundle.problems
    ]
    sheets: list[Sheet] = []
    table_name = filename
    for name, content in bundle.tables:
        sheets.extend(read_table(name, content))
        table_name = name
    if not sheets and not bundle.plans:
        raise Invalid("empty_file", "The file is empty.")
    parsed = _parse_sheets(sheets, table_name, kind, errors)
    return parsed, errors, bundle.plans


def _parse_sheets(
    sheets: list[Sheet], filename: str, kind: str | None, errors: list[RowError]
) -> list[_Parsed]:
    parsed: list[_Parsed] = []
    forced = KINDS.get(kind) if kind else None
    if kind and forced is None:
        raise Invalid("unknown_import_kind", "Unknown kind of import: %(kind)s", kind=kind)
    for sheet in sheets:
        if sheet.name.strip().lower() in IGNORED_SHEETS:
            continue
        k = forced or kind_for_name(sheet.name)
        if k is None and len(sheets) == 1:
            k = kind_for_name(filename.rsplit("/", 1)[-1].split(".")[0]) or kind_for_headers(
                sheet.headers
            )
        if k is None:
            k = kind_for_headers(sheet.headers)
        if k is None:
            errors.append(
                RowError(sheet.name, sheet.header_row, "", "Cannot tell what this sheet holds.")
            )
            continue
        parsed.append(_parse_sheet(sheet, k, errors))
    parsed.sort(key=lambda p: ORDER.index(p.kind.code))
    return parsed


# ---- applying ------------------------------------------------------------------------------


class _Context:
    """What the project already holds, loaded once, and kept current as rows are added."""

    def __init__(self, session: Session, project_id: int, report: ImportReport):
        self.s, self.pid, self.report = session, project_id, report
        self._units: dict[tuple[str, str, str], Unit] | None = None
        self._buildings: dict[str, Building] | None = None

    def error(self, p: _Parsed, row_no: int, column: str, msgid: str, **params) -> None:
        self.report.errors.append(RowError(p.sheet.name, row_no, column, msgid, params))

    def buildings(self) -> dict[str, Building]:
        if self._buildings is None:
            self._buildings = {
                b.code: b
                for b in self.s.scalars(select(Building).where(Building.project_id == self.pid))
            }
        return self._buildings

    def units(self) -> dict[tuple[str, str, str], Unit]:
        if self._units is None:
            codes = {b.id: b.code for b in self.buildings().values()}
            self._units = {
                (codes[u.building_id], u.entrance, u.room): u
                for u in self.s.scalars(select(Unit).where(Unit.project_id == self.pid))
            }
        return self._units

    def unit(self, p: _Parsed, number: int, row) -> Unit | None:
        unit = self.units().get(row.unit_key)
        if unit is None:
            self.error(
                p,
                number,
                "房号",
                "Unit %(unit)s is not known: import it in the units sheet first.",
                unit=unit_label(row.unit_key),
            )
        return unit


def unit_label(key: tuple[str, str, str]) -> str:
    return f"{key[0]}栋{key[1]}单元{key[2]}"


def _count(result: KindResult, number: int, action: str, label: str) -> None:
    if action == "create":
        result.created += 1
    elif action == "update":
        result.updated += 1
    else:
        result.unchanged += 1
        return
    if len(result.samples) < SAMPLE_LIMIT:
        result.samples.append((number, action, label))


def _set(obj, **values) -> bool:
    changed = False
    for k, v in values.items():
        if getattr(obj, k) != v:
            setattr(obj, k, v)
            changed = True
    return changed


def _by_name(session: Session, model, project_id: int) -> dict[str, Any]:
    """Catalog rows found by code, Chinese or English name (what a spreadsheet would say)."""
    out: dict[str, Any] = {}
    for obj in session.scalars(select(model).where(model.project_id == project_id)):
        for key in (obj.name_zh, obj.name_en, obj.code):
            if key:
                out.setdefault(key.strip().lower(), obj)
    return out


def _new_code(prefix: str, existing: dict[str, Any]) -> str:
    n = len(existing) + 1
    while f"{prefix}{n}" in existing:
        n += 1
    return f"{prefix}{n}"


def _apply_staff(ctx: _Context, p: _Parsed, result: KindResult) -> None:
    from server.auth import hash_password

    existing = {s.username: s for s in ctx.s.scalars(select(Staff))}
    seen: dict[str, int] = {}
    for number, row in p.rows:
        if row.username in seen:
            ctx.error(p, number, "用户名", "Same as row %(row)s.", row=seen[row.username])
            continue
        seen[row.username] = number
        staff = existing.get(row.username)
        if staff is None:
            if not row.password:
                ctx.error(
                    p, number, "初始密码", "A new staff member needs a password (8+ characters)."
                )
                continue
            staff = Staff(
                username=row.username,
                display_name=row.name,
                role=row.role,
                department=row.department,
                password_hash=hash_password(row.password),
            )
            ctx.s.add(staff)
            existing[row.username] = staff
            _count(result, number, "create", row.username)
            continue
        changed = _set(staff, display_name=row.name, role=row.role, department=row.department)
        if row.password and not check_password_hash(staff.password_hash, row.password):
            staff.password_hash = hash_password(row.password)
            changed = True
        _count(result, number, "update" if changed else "same", row.username)


def _apply_counters(ctx: _Context, p: _Parsed, result: KindResult) -> None:
    steps = _by_name(ctx.s, Step, ctx.pid)
    existing = {
        c.code: c for c in ctx.s.scalars(select(Counter).where(Counter.project_id == ctx.pid))
    }
    seen: dict[str, int] = {}
    for number, row in p.rows:
        if row.code in seen:
            ctx.error(p, number, "窗口编码", "Same as row %(row)s.", row=seen[row.code])
            continue
        seen[row.code] = number
        served = [steps.get(name.lower()) for name in row.steps]
        if None in served:
            unknown = row.steps[served.index(None)]
            ctx.error(p, number, "办理环节", "Unknown step: %(name)s", name=unknown)
            continue
        values = dict(
            name_zh=row.name_zh,
            name_en=row.name_en or row.code,
            area=row.area,
            location_zh=row.location_zh,
            location_en=row.location_en,
        )
        counter = existing.get(row.code)
        if counter is None:
            counter = Counter(project_id=ctx.pid, code=row.code, **values)
            counter.steps = served
            ctx.s.add(counter)
            existing[row.code] = counter
            _count(result, number, "create", row.code)
            continue
        changed = _set(counter, **values)
        if [st.id for st in counter.steps] != [st.id for st in served]:
            counter.steps = served
            changed = True
        _count(result, number, "update" if changed else "same", row.code)


def _apply_responses(ctx: _Context, p: _Parsed, result: KindResult, actor: Actor) -> None:
    # Standard responses are never edited in place: a changed text supersedes the old one.
    rows = ctx.s.scalars(
        select(StandardResponse).where(StandardResponse.project_id == ctx.pid)
    ).all()
    superseded = {r.supersedes_id for r in rows if r.supersedes_id}
    current = {r.topic: r for r in rows if r.id not in superseded}
    for number, row in p.rows:
        old = current.get(row.topic)
        if old is not None and old.text == row.text and (old.keywords or None) == row.keywords:
            _count(result, number, "same", row.topic)
            continue
        new = StandardResponse(
            project_id=ctx.pid,
            topic=row.topic,
            text=row.text,
            keywords=row.keywords,
            supersedes_id=old.id if old is not None else None,
            staff_id=actor.staff_id,
        )
        ctx.s.add(new)
        if old is not None:
            ctx.s.flush()
        current[row.topic] = new
        _count(result, number, "update" if old is not None else "create", row.topic)


def _apply_units(ctx: _Context, p: _Parsed, result: KindResult) -> None:
    buildings = ctx.buildings()
    units = ctx.units()
    types = {
        t.code: t for t in ctx.s.scalars(select(UnitType).where(UnitType.project_id == ctx.pid))
    }
    codes = set(ctx.s.scalars(select(Unit.notice_code)))
    seen: dict[tuple, int] = {}
    for _number, row in p.rows:
        if row.building not in buildings:
            b = Building(
                project_id=ctx.pid,
                code=row.building,
                name=f"{row.building}栋",
                sort=len(buildings),
            )
            ctx.s.add(b)
            buildings[row.building] = b
        if row.unit_type and row.unit_type not in types:
            types[row.unit_type] = UnitType(
                project_id=ctx.pid, code=row.unit_type, name=row.unit_type_name or row.unit_type
            )
            ctx.s.add(types[row.unit_type])
    ctx.s.flush()
    for number, row in p.rows:
        key = row.unit_key
        label = unit_label(key)
        if key in seen:
            ctx.error(p, number, "房号", "Same as row %(row)s.", row=seen[key])
            continue
        seen[key] = number
        unit = units.get(key)
        values: dict[str, Any] = {}
        if row.floor is not None:
            values["floor"] = row.floor
        if row.area_m2 is not None:
            values["area_m2"] = row.area_m2
        if row.unit_type:
            values["unit_type_id"] = types[row.unit_type].id
        if row.notice_code and (unit is None or unit.notice_code != row.notice_code):
            if row.notice_code in codes:
                ctx.error(
                    p, number, "通知书编码", "This notice code is already used by another unit."
                )
                continue
            codes.add(row.notice_code)
            values["notice_code"] = row.notice_code
        if unit is None:
            code = values.pop("notice_code", None)  # given in the file: already checked unique
            while code is None:
                code = secrets.token_hex(6).upper()
                code = None if code in codes else code
            codes.add(code)
            floor = values.pop("floor", None)
            if floor is None:
                digits = "".join(ch for ch in row.room if ch.isdigit())
                floor = int(digits[:-2]) if len(digits) > 2 else 1
            unit = Unit(
                project_id=ctx.pid,
                building_id=buildings[row.building].id,
                entrance=row.entrance,
                room=row.room,
                floor=floor,
                notice_code=code,
                **values,
            )
            ctx.s.add(unit)
            units[key] = unit
            _count(result, number, "create", label)
        else:
            _count(result, number, "update" if _set(unit, **values) else "same", label)
    ctx.s.flush()


def _apply_owners(ctx: _Context, p: _Parsed, result: KindResult) -> None:
    owners = {
        o.id_number: o
        for o in ctx.s.scalars(
            select(Owner).where(Owner.project_id == ctx.pid, Owner.id_number.is_not(None))
        )
    }
    links: dict[tuple[int, int], UnitOwner] = {
        (lk.unit_id, lk.owner_id): lk
        for lk in ctx.s.scalars(
            select(UnitOwner)
            .join(Unit, Unit.id == UnitOwner.unit_id)
            .where(Unit.project_id == ctx.pid)
        )
    }
    per_unit: dict[int, int] = {}
    names: dict[str, tuple[str, int]] = {}
    pending: list[tuple[int, Any, Unit, Owner, str]] = []
    for number, row in p.rows:
        unit = ctx.unit(p, number, row)
        if unit is None:
            continue
        if row.id_number in names and names[row.id_number][0] != row.name:
            ctx.error(
                p,
                number,
                "姓名",
                "Same ID number as row %(row)s but another name.",
                row=names[row.id_number][1],
            )
            continue
        names[row.id_number] = (row.name, number)
        owner = owners.get(row.id_number)
        values = dict(
            name=row.name,
            id_last4=row.id_number[-4:],
            id_last6=row.id_number[-6:],
        )
        if row.phone:
            values["phone"] = row.phone
        if owner is None:
            owner = Owner(project_id=ctx.pid, id_number=row.id_number, **values)
            ctx.s.add(owner)
            owners[row.id_number] = owner
            action = "create"
        else:
            action = "update" if _set(owner, **values) else "same"
        pending.append((number, row, unit, owner, action))
    ctx.s.flush()
    for number, row, unit, owner, action in pending:
        position = (row.position - 1) if row.position else per_unit.get(unit.id, 0)
        per_unit[unit.id] = max(per_unit.get(unit.id, 0), position + 1)
        link = links.get((unit.id, owner.id))
        if link is None:
            link = UnitOwner(unit_id=unit.id, owner_id=owner.id, position=position)
            ctx.s.add(link)
            links[(unit.id, owner.id)] = link
            action = "create" if action == "create" else "update"
        elif link.position != position:
            link.position = position
            action = "update"
        _count(result, number, action, f"{row.name} · {unit_label(row.unit_key)}")


def _apply_appointments(ctx: _Context, p: _Parsed, result: KindResult) -> None:
    existing = {
        (a.unit_id, a.day): a
        for a in ctx.s.scalars(select(Appointment).where(Appointment.project_id == ctx.pid))
    }
    for number, row in p.rows:
        unit = ctx.unit(p, number, row)
        if unit is None:
            continue
        label = f"{unit_label(row.unit_key)} {row.day} {row.slot_start:%H:%M}"
        appt = existing.get((unit.id, row.day))
        values = dict(slot_start=row.slot_start, slot_end=row.slot_end, batch=row.batch)
        if appt is None:
            appt = Appointment(project_id=ctx.pid, unit_id=unit.id, day=row.day, **values)
            ctx.s.add(appt)
            existing[(unit.id, row.day)] = appt
            _count(result, number, "create", label)
        else:
            _count(result, number, "update" if _set(appt, **values) else "same", label)


def _per_unit_items(
    ctx: _Context,
    p: _Parsed,
    result: KindResult,
    *,
    catalog,
    prefix,
    item_model,
    type_field,
    name_of,
    values_of,
) -> None:
    """Fees and key sets: one row per unit and catalog type; the type is created if new."""
    types = _by_name(ctx.s, catalog, ctx.pid)
    unit_ids = [u.id for u in ctx.units().values() if u.id is not None]
    existing = (
        {
            (i.unit_id, getattr(i, type_field)): i
            for i in ctx.s.scalars(select(item_model).where(item_model.unit_id.in_(unit_ids)))
        }
        if unit_ids
        else {}
    )
    for number, row in p.rows:
        unit = ctx.unit(p, number, row)
        if unit is None:
            continue
        name = name_of(row)
        t = types.get(name.lower())
        if t is None:
            t = catalog(
                project_id=ctx.pid,
                code=_new_code(prefix, types),
                name_zh=name,
                name_en=name,
                sort=len(types),
            )
            ctx.s.add(t)
            ctx.s.flush()
            types[name.lower()] = t
            types[t.code] = t
        label = f"{unit_label(row.unit_key)} {name}"
        item = existing.get((unit.id, t.id))
        if item is None:
            item = item_model(unit_id=unit.id, **{type_field: t.id}, **values_of(row))
            ctx.s.add(item)
            existing[(unit.id, t.id)] = item
            _count(result, number, "create", label)
        else:
            _count(result, number, "update" if _set(item, **values_of(row)) else "same", label)


def _apply_issues(ctx: _Context, p: _Parsed, result: KindResult) -> None:
    cats = _by_name(ctx.s, DefectCategory, ctx.pid)
    existing = {
        (i.unit_id, i.description): i
        for i in ctx.s.scalars(select(KnownIssue).where(KnownIssue.project_id == ctx.pid))
    }
    for number, row in p.rows:
        unit = ctx.unit(p, number, row)
        if unit is None:
            continue
        cat = None
        if row.category:
            cat = cats.get(row.category.lower())
            if cat is None:
                ctx.error(p, number, "类别", "Unknown defect category: %(name)s", name=row.category)
                continue
        values = dict(
            room_code=row.room_code,
            category_id=cat.id if cat else None,
            source=row.source,
            status=row.status,
        )
        label = f"{unit_label(row.unit_key)} {row.description[:20]}"
        issue = existing.get((unit.id, row.description))
        if issue is None:
            issue = KnownIssue(
                project_id=ctx.pid, unit_id=unit.id, description=row.description, **values
            )
            ctx.s.add(issue)
            existing[(unit.id, row.description)] = issue
            _count(result, number, "create", label)
        else:
            _count(result, number, "update" if _set(issue, **values) else "same", label)


FLOOR_PLANS = "floor_plans"  # the result row of a ZIP's plan files (not a sheet kind)


def _apply_plans(
    ctx: _Context,
    plans: list[PlanFile],
    result: KindResult,
    actor: Actor,
    instance_path: str | Path | None,
    dry_run: bool,
) -> None:
    """Each plan file to the unit type named by its file name (code, else name): known after
    the units sheet, checked like an upload; stored only when applying."""
    from server.services import files, inspection

    if not dry_run and instance_path is None:
        raise Invalid("no_instance_path", "Floor plans cannot be stored here.")
    types = list(ctx.s.scalars(select(UnitType).where(UnitType.project_id == ctx.pid)))
    by_key = {t.code: t for t in types} | {
        t.name: t for t in types if t.name and t.name not in {x.code for x in types}
    }
    folded: dict[str, list[UnitType]] = {}
    for t in types:
        folded.setdefault(t.code.casefold(), []).append(t)
    for plan in plans:
        ut = by_key.get(plan.code)
        if ut is None and len(folded.get(plan.code.casefold(), [])) == 1:
            ut = folded[plan.code.casefold()][0]
        if ut is None:
            ctx.report.errors.append(
                RowError(
                    plan.entry,
                    0,
                    "户型",
                    "No unit type %(code)s: name each plan file by a unit type code of the "
                    "units sheet (户型 column).",
                    {"code": plan.code},
                )
            )
            continue
        try:
            png = files.pdf_page_png(plan.data, 1) if files.is_pdf(plan.data) else plan.data
            digest = files.check_image(png)  # refused here exactly as an upload would be
            current = ctx.s.get(StoredFile, ut.floor_plan_file_id or 0)
            if current is not None and current.sha256 == digest:
                action = "same"
            elif dry_run:
                action = "update" if current else "create"
            else:
                inspection.set_floor_plan(
                    ctx.s,
                    instance_path,
                    project_id=ctx.pid,
                    unit_type_id=ut.id,
                    data=png,
                    actor=actor,
                    commit=False,
                )
                action = "update" if current else "create"
        except Invalid as err:
            ctx.report.errors.append(
                RowError(plan.entry, 0, "户型图", err.message, dict(err.params or {}))
            )
            continue
        _count(result, 0, action, f"{ut.code} ← {plan.entry}")


def _apply(ctx: _Context, p: _Parsed, result: KindResult, actor: Actor) -> None:
    code = p.kind.code
    if code == "staff":
        _apply_staff(ctx, p, result)
    elif code == "responses":
        _apply_responses(ctx, p, result, actor)
    elif code == "counters":
        _apply_counters(ctx, p, result)
    elif code == "units":
        _apply_units(ctx, p, result)
    elif code == "owners":
        _apply_owners(ctx, p, result)
    elif code == "appointments":
        _apply_appointments(ctx, p, result)
    elif code == "fees":
        _per_unit_items(
            ctx,
            p,
            result,
            catalog=FeeType,
            prefix="fee",
            item_model=UnitFee,
            type_field="fee_type_id",
            name_of=lambda r: r.fee,
            values_of=lambda r: {"amount": r.amount, "note": r.note},
        )
    elif code == "keys":
        _per_unit_items(
            ctx,
            p,
            result,
            catalog=KeyItemType,
            prefix="key",
            item_model=UnitKeyItem,
            type_field="key_item_type_id",
            name_of=lambda r: r.item,
            values_of=lambda r: {"quantity": r.quantity, "serials": r.serials},
        )
    elif code == "issues":
        _apply_issues(ctx, p, result)
    ctx.s.flush()


def run_import(
    session: Session,
    *,
    project_id: int,
    filename: str,
    data: bytes,
    actor: Actor,
    dry_run: bool = True,
    kind: str | None = None,
    instance_path: str | Path | None = None,
) -> ImportReport:
    """Checks every row, applies them in one transaction, and commits only when nothing is
    wrong and this is not a dry run. Raises Invalid only for a file that cannot be read.
    A ZIP may carry floor plans named by unit type code (`bundle.py`): they are checked with
    the rows and set in the same transaction (their files are stored under `instance_path`
    only when applying)."""
    report = ImportReport(filename=filename, dry_run=dry_run)
    parsed, errors, plans = parse_bundle(filename, data, kind)
    report.errors.extend(errors)
    ctx = _Context(session, project_id, report)
    try:
        for p in parsed:
            result = KindResult(kind=p.kind.code, sheet=p.sheet.name, rows=len(p.sheet.rows))
            if p.rows or p.sheet.rows:
                report.results.append(result)
            _apply(ctx, p, result, actor)
        if plans:
            result = KindResult(kind=FLOOR_PLANS, sheet=filename, rows=len(plans))
            report.results.append(result)
            _apply_plans(ctx, plans, result, actor, instance_path, dry_run)
        if report.errors or dry_run:
            session.rollback()
            return report
        audit.record(
            session,
            actor,
            "import.apply",
            "project",
            project_id,
            filename=filename,
            sha256=hashlib.sha256(data).hexdigest(),
            counts={r.kind: [r.created, r.updated, r.unchanged] for r in report.results},
        )
        session.commit()
        report.applied = True
        return report
    except BaseException:
        session.rollback()
        raise
