"""The day's plan as data (岗位设置): steps, counters, staff, checklists and catalogs, the
project's queue rules. Every change is audited; the queue screens hear about plan changes.

Changing the plan during the day is allowed where it is safe (open or close a counter, change
the steps it serves, rename) and refused with a reason where it is not (delete a step that
visits pass through, close a counter while it serves someone, delete a type already used).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import exists, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from server import clock
from server.engine import Invalid, NotFound
from server.models import (
    ChecklistItem,
    Counter,
    DefectCategory,
    Department,
    DocumentType,
    FeePayment,
    FeeType,
    InspectionRoom,
    KeyHandoverItem,
    KeyItemType,
    MeterReading,
    MeterType,
    Printer,
    Project,
    Staff,
    Step,
    UnitFee,
    UnitKeyItem,
    VisitDocument,
    VisitStep,
)
from server.models.people import ROLES

from . import audit, events, staff_sessions
from .actor import Actor

STEP_KINDS = ("verify", "fees", "sign", "inspect", "keys", "generic")
NO_SHOW_POLICIES = ("requeue", "out")


@dataclass(frozen=True)
class Field_:
    name: str
    label: str  # English message id
    type: str = "text"  # text | int | bool | choice | steps | password | list
    required: bool = False
    choices: tuple[str, ...] = ()
    max_len: int = 80
    # Only settable when the row is new (a step's code is how visits and transfers name it).
    fixed: bool = False


@dataclass(frozen=True)
class Catalog:
    kind: str
    title: str  # English message id
    model: type
    fields: tuple[Field_, ...]
    order: tuple[str, ...] = ("sort", "id")
    per_project: bool = True
    hint: str = ""
    uses: tuple[tuple[Any, Any], ...] = field(default_factory=tuple)


_CODE = Field_("code", "Code", required=True, max_len=30, fixed=True)
_ZH = Field_("name_zh", "Name (Chinese)", required=True, max_len=60)
_EN = Field_("name_en", "Name (English)", required=True, max_len=80)
_SORT = Field_("sort", "Order", "int")

CATALOGS: dict[str, Catalog] = {
    c.kind: c
    for c in (
        Catalog(
            "steps",
            "Steps",
            Step,
            (
                _CODE,
                _ZH,
                _EN,
                _SORT,
                Field_("ticket_prefix", "Ticket prefix", required=True, max_len=4),
                Field_("kind", "Panel", "choice", True, STEP_KINDS),
                Field_("required", "Required", "bool"),
                Field_("default_service_minutes", "Minutes per owner (estimate)", "int"),
                Field_("active", "Active", "bool"),
            ),
            hint="The order owners go through. A step that visits pass through cannot be "
            "deleted; make it inactive instead.",
            uses=((VisitStep, VisitStep.step_id),),
        ),
        Catalog(
            "counters",
            "Counters",
            Counter,
            (
                Field_("code", "Code", required=True, max_len=20, fixed=True),
                Field_("name_zh", "Name (Chinese)", required=True, max_len=40),
                Field_("name_en", "Name (English)", required=True, max_len=60),
                Field_("steps", "Steps served", "steps", True),
                Field_("area", "Area", max_len=40),
                Field_("location_zh", "Location shown to owners (Chinese)", max_len=80),
                Field_("location_en", "Location shown to owners (English)", max_len=120),
                Field_("printer_id", "Printer", "printer"),
                Field_("is_open", "Open", "bool"),
            ),
            order=("code",),
            uses=((VisitStep, VisitStep.counter_id),),
        ),
        Catalog(
            "staff",
            "Staff and roles",
            Staff,
            (
                Field_("username", "User name", required=True, max_len=40, fixed=True),
                Field_("display_name", "Name", required=True, max_len=60),
                Field_("role", "Role", "choice", True, ROLES),
                Field_("department", "Department", max_len=40),
                Field_("password", "New password", "password"),
                Field_("active", "Active", "bool"),
            ),
            order=("username",),
            per_project=False,
            hint="Leave the password empty to keep it. Staff are deactivated, never deleted: "
            "their names stay on the records they made.",
        ),
        Catalog(
            "documents",
            "Documents to check and sign",
            DocumentType,
            (
                _CODE,
                _ZH,
                _EN,
                Field_("step_code", "Step that checks it", "stepcode", True),
                Field_("needs_signature", "Signed", "bool"),
                Field_("required", "Required", "bool"),
                Field_("per_owner", "One per co-owner", "bool"),
                Field_("agent_only", "Only for an agent", "bool"),
                _SORT,
                Field_("active", "Active", "bool"),
            ),
            uses=((VisitDocument, VisitDocument.document_type_id),),
        ),
        Catalog(
            "rooms",
            "Inspection rooms",
            InspectionRoom,
            (_CODE, _ZH, _EN, _SORT),
        ),
        Catalog(
            "checklist",
            "Inspection checklist",
            ChecklistItem,
            (
                _CODE,
                _ZH,
                _EN,
                Field_("room_codes", "Rooms (codes, comma separated)", "list"),
                _SORT,
            ),
        ),
        Catalog(
            "defect_categories",
            "Defect categories",
            DefectCategory,
            (_CODE, _ZH, _EN, _SORT),
        ),
        Catalog(
            "fee_types",
            "Fee types",
            FeeType,
            (_CODE, _ZH, _EN, _SORT, Field_("active", "Active", "bool")),
            uses=((UnitFee, UnitFee.fee_type_id), (FeePayment, FeePayment.fee_type_id)),
        ),
        Catalog(
            "key_items",
            "Key item types",
            KeyItemType,
            (_CODE, _ZH, _EN, _SORT),
            uses=(
                (UnitKeyItem, UnitKeyItem.key_item_type_id),
                (KeyHandoverItem, KeyHandoverItem.key_item_type_id),
            ),
        ),
        Catalog(
            "meter_types",
            "Meter types",
            MeterType,
            (
                _CODE,
                _ZH,
                _EN,
                Field_("unit_label", "Unit (kWh, m³)", required=True, max_len=10),
                _SORT,
            ),
            uses=((MeterReading, MeterReading.meter_type_id),),
        ),
        Catalog(
            "departments",
            "Departments",
            Department,
            (_CODE, _ZH, _EN, _SORT),
        ),
    )
}


def catalog(kind: str) -> Catalog:
    cat = CATALOGS.get(kind)
    if cat is None:
        raise NotFound("unknown_catalog", "Unknown settings page.")
    return cat


def list_items(session: Session, project_id: int, kind: str) -> list:
    cat = catalog(kind)
    stmt = select(cat.model)
    if cat.per_project:
        stmt = stmt.where(cat.model.project_id == project_id)
    return list(session.scalars(stmt.order_by(*(getattr(cat.model, o) for o in cat.order))))


def _get(session: Session, project_id: int, cat: Catalog, item_id: int):
    obj = session.get(cat.model, item_id)
    if obj is None or (cat.per_project and obj.project_id != project_id):
        raise NotFound("unknown_item", "This item does not exist (any more).")
    return obj


def _coerce(session: Session, project_id: int, f: Field_, raw: Any) -> Any:
    """One submitted value in its column's type; raises Invalid naming the field."""

    def bad(msg: str = "Invalid value for %(field)s.", **extra) -> Invalid:
        return Invalid("bad_field", msg, field=f.label, **extra)

    if f.type == "bool":
        return raw in (True, "1", "on", "true", "yes")
    if f.type == "steps":
        ids = [int(x) for x in (raw if isinstance(raw, list) else [raw]) if str(x).isdigit()]
        steps = list(
            session.scalars(select(Step).where(Step.project_id == project_id, Step.id.in_(ids)))
        )
        if f.required and not steps:
            raise bad("Please choose at least one step.")
        return steps
    text = str(raw if raw is not None else "").strip()
    if f.type == "list":
        return [p for p in re.split(r"[,，\s]+", text) if p] or None
    if not text:
        if f.required:
            raise bad("%(field)s is required.")
        return None
    if len(text) > f.max_len:
        raise bad("%(field)s is too long (at most %(max)s characters).", max=f.max_len)
    if f.type == "int":
        if not re.fullmatch(r"-?\d{1,6}", text):
            raise bad("%(field)s must be a whole number.")
        return int(text)
    if f.type == "printer":
        if not text.isdigit():
            return None
        p = session.get(Printer, int(text))
        if p is None or p.project_id != project_id:
            raise bad()
        return p.id
    if f.type == "choice" and text not in f.choices:
        raise bad()
    if f.type == "stepcode" and not session.scalar(
        select(Step.id).where(Step.project_id == project_id, Step.code == text)
    ):
        raise bad()
    if f.name == "code" and not re.fullmatch(r"[A-Za-z0-9_\-]+", text):
        raise bad("%(field)s: only letters, digits, - and _.")
    return text


def _queue_changed(session: Session, project_id: int) -> None:
    events.queue_changed(session, project_id, clock.today())


def save_item(
    session: Session,
    project_id: int,
    kind: str,
    item_id: int | None,
    values: dict[str, Any],
    actor: Actor,
):
    """Creates (item_id None) or updates one row of a settings page."""
    from server.auth import hash_password

    cat = catalog(kind)
    obj = _get(session, project_id, cat, item_id) if item_id else None
    new = obj is None
    changes: dict[str, Any] = {}
    printer_id: int | bool | None = False
    for f in cat.fields:
        if f.fixed and not new:
            continue
        if f.type == "bool" and f.name not in values and "_form" not in values:
            continue
        if f.type != "bool" and f.name not in values:
            if new and f.required:
                raise Invalid("bad_field", "%(field)s is required.", field=f.label)
            continue
        value = _coerce(session, project_id, f, values.get(f.name))
        if f.type == "password":
            if value:
                if len(value) < 8:
                    raise Invalid("weak_password", "The password needs at least 8 characters.")
                changes["password_hash"] = hash_password(value)
            elif new:
                raise Invalid("weak_password", "The password needs at least 8 characters.")
            continue
        if f.type == "printer":
            printer_id = value
            continue
        changes[f.name] = value
    if new:
        if cat.per_project:
            changes["project_id"] = project_id
        key = "username" if kind == "staff" else "code"
        dup = select(cat.model.id).where(getattr(cat.model, key) == changes[key])
        if cat.per_project:
            dup = dup.where(cat.model.project_id == project_id)
        if session.scalar(dup):
            raise Invalid("duplicate_code", "%(code)s already exists.", code=changes[key])
        obj = cat.model(**changes)
        session.add(obj)
    else:
        if kind == "counters" and changes.get("is_open") is False and obj.is_open:
            _refuse_close_while_serving(session, obj)
        if kind == "staff":
            _take_access_away_if_needed(session, obj, changes, actor)
        for k, v in changes.items():
            setattr(obj, k, v)
    session.flush()
    if printer_id is not False:
        _assign_printer(session, project_id, obj.id, printer_id)
    logged = {
        k: (v if isinstance(v, str | int | float | bool | list) or v is None else str(v))
        for k, v in changes.items()
        if k not in ("password_hash", "steps", "project_id")
    }
    if "steps" in changes:
        logged["steps"] = [s.code for s in changes["steps"]]
    if "password_hash" in changes:
        logged["password"] = "changed"
    audit.record(
        session, actor, f"config.{kind}.{'create' if new else 'update'}", kind, obj.id, **logged
    )
    if kind in ("steps", "counters"):
        _queue_changed(session, project_id)
    session.commit()
    return obj


def _take_access_away_if_needed(
    session: Session, staff: Staff, changes: dict[str, Any], actor: Actor
) -> None:
    """The settings page changes an account as the staff API does (services.staff_accounts):
    a new password, a deactivation or another role ends every live login of that person in
    this transaction, and the socket guard then closes their screens (the view wakes it)."""
    if changes.get("active") is False and staff.id == actor.staff_id:
        raise Invalid("self_deactivate", "You cannot deactivate your own account.")
    deactivated = changes.get("active") is False and staff.active
    new_role = "role" in changes and changes["role"] != staff.role
    if "password_hash" in changes or deactivated or new_role:
        staff_sessions.end_all(session, staff.id)
        if "password_hash" in changes:
            staff.failed_logins, staff.locked_until = 0, None


def _assign_printer(session: Session, project_id: int, counter_id: int, printer_id) -> None:
    for p in session.scalars(
        select(Printer).where(Printer.project_id == project_id, Printer.counter_id == counter_id)
    ):
        if p.id != printer_id:
            p.counter_id = None
    if printer_id:
        session.get(Printer, printer_id).counter_id = counter_id


def counter_printer_ids(session: Session, project_id: int) -> dict[int, int]:
    return {
        cid: pid
        for pid, cid in session.execute(
            select(Printer.id, Printer.counter_id).where(
                Printer.project_id == project_id, Printer.counter_id.is_not(None)
            )
        )
    }


def delete_item(session: Session, project_id: int, kind: str, item_id: int, actor: Actor) -> None:
    cat = catalog(kind)
    obj = _get(session, project_id, cat, item_id)
    if kind == "staff":
        raise Invalid(
            "staff_not_deleted", "Staff are not deleted: make the account inactive instead."
        )
    for _model, column in cat.uses:
        if session.scalar(select(exists().where(column == obj.id))):
            raise Invalid(
                "item_in_use",
                "%(name)s is already used by today's records and cannot be deleted; "
                "make it inactive or rename it instead.",
                name=getattr(obj, "name_zh", None) or getattr(obj, "code", ""),
            )
    if kind == "counters":
        for printer in session.scalars(select(Printer).where(Printer.counter_id == obj.id)):
            printer.counter_id = None
    name = getattr(obj, "name_zh", None) or getattr(obj, "code", "")
    audit.record(
        session, actor, f"config.{kind}.delete", kind, obj.id, code=getattr(obj, "code", None)
    )
    session.delete(obj)
    try:
        session.flush()
    except IntegrityError:
        # Something this list does not know refers to it (a request, a print job...).
        session.rollback()
        raise Invalid(
            "item_in_use",
            "%(name)s is already used by today's records and cannot be deleted; "
            "make it inactive or rename it instead.",
            name=name,
        ) from None
    if kind in ("steps", "counters"):
        _queue_changed(session, project_id)
    session.commit()


def _refuse_close_while_serving(session: Session, counter: Counter) -> None:
    busy = session.scalar(
        select(VisitStep).where(
            VisitStep.counter_id == counter.id, VisitStep.state.in_(("called", "serving"))
        )
    )
    if busy is not None:
        raise Invalid(
            "counter_busy_close",
            "%(counter)s is serving ticket %(ticket)s: finish or hold it before closing.",
            counter=counter.name_zh,
            ticket=busy.visit.ticket_no,
        )


def set_counter_open(
    session: Session, project_id: int, counter_id: int, is_open: bool, actor: Actor
) -> Counter:
    counter = session.get(Counter, counter_id)
    if counter is None or counter.project_id != project_id:
        raise NotFound("unknown_counter", "Unknown counter.")
    if not is_open:
        _refuse_close_while_serving(session, counter)
    if counter.is_open != is_open:
        counter.is_open = is_open
        audit.record(
            session, actor, "counter.open" if is_open else "counter.close", "counter", counter.id
        )
        session.flush()
        _queue_changed(session, project_id)
    session.commit()
    return counter


@dataclass(frozen=True)
class Rules:
    walk_in_allowed: bool
    early_grace_minutes: int
    max_recalls: int | None
    no_show_policy: str | None
    wait_amber_minutes: int
    wait_red_minutes: int


def update_rules(
    session: Session, project_id: int, values: dict[str, Any], actor: Actor
) -> Project:
    """Walk-in policy, appointment grace, recall and no-show rules, floor-view thresholds."""
    project = session.get(Project, project_id)

    def number(name: str, label: str, lo: int, hi: int, optional: bool = False) -> int | None:
        text = str(values.get(name) or "").strip()
        if not text and optional:
            return None
        if not re.fullmatch(r"\d{1,4}", text) or not lo <= int(text) <= hi:
            raise Invalid(
                "bad_field",
                "%(field)s must be between %(lo)s and %(hi)s.",
                field=label,
                lo=lo,
                hi=hi,
            )
        return int(text)

    policy = str(values.get("no_show_policy") or "").strip() or None
    if policy is not None and policy not in NO_SHOW_POLICIES:
        raise Invalid("bad_field", "Invalid value for %(field)s.", field="No-show rule")
    amber = number("wait_amber_minutes", "Amber after (minutes)", 1, 600)
    red = number("wait_red_minutes", "Red after (minutes)", 1, 600)
    if red <= amber:
        raise Invalid("bad_thresholds", "Red must come after amber.")
    changes = {
        "walk_in_allowed": values.get("walk_in_allowed") in (True, "1", "on", "true"),
        "early_grace_minutes": number("early_grace_minutes", "Early arrival grace", 0, 240),
        "max_recalls": number("max_recalls", "Recalls before no-show", 0, 10, optional=True),
        "no_show_policy": policy,
        "wait_amber_minutes": amber,
        "wait_red_minutes": red,
    }
    changed = {k: v for k, v in changes.items() if getattr(project, k) != v}
    for k, v in changed.items():
        setattr(project, k, v)
    if changed:
        audit.record(session, actor, "config.rules.update", "project", project.id, **changed)
    session.commit()
    return project


def create_project(
    session: Session, *, code: str, name: str, actor: Actor, standard_plan: bool = True
) -> Project:
    """A new, empty project; with the standard plan of the procedure (five steps, documents,
    fee and key types, meters) to edit rather than start from nothing."""
    code, name = (code or "").strip(), (name or "").strip()
    if not re.fullmatch(r"[A-Za-z0-9_\-]{2,40}", code):
        raise Invalid("bad_field", "%(field)s: only letters, digits, - and _.", field="Code")
    if not name or len(name) > 200:
        raise Invalid("bad_field", "%(field)s is required.", field="Name")
    if session.scalar(select(func.count()).select_from(Project).where(Project.code == code)):
        raise Invalid("duplicate_code", "%(code)s already exists.", code=code)
    project = Project(code=code, name=name)
    session.add(project)
    session.flush()
    if standard_plan:
        from server import demo

        pid = project.id
        session.add_all(
            Step(
                project_id=pid,
                code=c,
                name_zh=zh,
                name_en=en,
                sort=i,
                ticket_prefix="A",
                default_service_minutes=m,
                kind=c,
            )
            for i, (c, zh, en, m) in enumerate(demo.STEPS)
        )
        session.add_all(demo.standard_document_types(pid))
        session.add_all(
            FeeType(project_id=pid, code=c, name_zh=zh, name_en=en, sort=i)
            for i, (c, zh, en) in enumerate(demo.FEE_TYPES)
        )
        session.add_all(
            KeyItemType(project_id=pid, code=c, name_zh=zh, name_en=en, sort=i)
            for i, (c, zh, en, _, _) in enumerate(demo.KEY_ITEMS)
        )
        session.add_all(
            MeterType(project_id=pid, code=c, name_zh=zh, name_en=en, unit_label=u, sort=i)
            for i, (c, zh, en, u) in enumerate(
                (
                    ("water", "水表", "Water meter", "m³"),
                    ("power", "电表", "Power meter", "kWh"),
                    ("gas", "燃气表", "Gas meter", "m³"),
                )
            )
        )
    audit.record(session, actor, "project.create", "project", project.id, code=code, name=name)
    session.commit()
    return project
