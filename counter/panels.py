"""Counter panels: taking a counter, the panel of the ticket served (verify, fees, sign, keys),
owner requests, standard responses, the department lists. Thin: services do the work."""

from __future__ import annotations

import base64
import binascii

from flask import Blueprint, current_app, render_template, request
from pydantic import BaseModel, Field

from server.auth import current_actor, require
from server.engine import Invalid, NotFound
from server.i18n import request_locale
from server.services import (
    counter_desk,
    counter_panel,
    fees,
    key_handover,
    owner_requests,
    queue,
    signing,
    standard_responses,
    verification,
)
from server.services.files import MAX_UPLOAD_BYTES
from server.web import body, db_session, ok, project_id

from .routes import _counter

bp = Blueprint("counter_panels", __name__)

# msgids of the request categories (the page translates them).
CATEGORY_NAMES = {
    "sales": "Sales",
    "construction_quality": "Construction quality",
    "design": "Design",
    "property_service": "Property service",
    "customer_service": "Customer service",
    "other": "Other",
}


class TakeBody(BaseModel):
    takeover: bool = False


class DocumentBody(BaseModel):
    document_type_id: int
    owner_id: int | None = None
    status: str = Field(max_length=20)
    note: str | None = Field(default=None, max_length=500)
    reason: str | None = Field(default=None, max_length=500)


class FeeBody(BaseModel):
    unit_fee_id: int
    status: str = Field(max_length=20)
    method: str | None = Field(default=None, max_length=20)
    receipt_no: str | None = Field(default=None, max_length=40)
    reason: str | None = Field(default=None, max_length=500)
    correction_reason: str | None = Field(default=None, max_length=500)


class SignBody(BaseModel):
    document_type_id: int
    owner_id: int | None = None
    signer_name: str | None = Field(default=None, max_length=60)
    image: str = Field(max_length=MAX_UPLOAD_BYTES * 2)  # a data: URL from the pad
    client_id: str | None = Field(default=None, max_length=40)
    reason: str | None = Field(default=None, max_length=500)


class AbsenceBody(BaseModel):
    owner_id: int
    absent: bool = True
    reason: str | None = Field(default=None, max_length=20)
    note: str | None = Field(default=None, max_length=500)


class KeyItemBody(BaseModel):
    key_item_type_id: int
    handed: int
    note: str | None = Field(default=None, max_length=200)


class ReadingBody(BaseModel):
    meter_type_id: int
    reading: str = Field(max_length=20)
    meter_no: str | None = Field(default=None, max_length=40)


class KeysBody(BaseModel):
    items: list[KeyItemBody] = Field(max_length=50)
    readings: list[ReadingBody] = Field(max_length=20)
    signer_name: str | None = Field(default=None, max_length=60)
    image: str = Field(max_length=MAX_UPLOAD_BYTES * 2)
    reason: str | None = Field(default=None, max_length=500)


class RequestBody(BaseModel):
    category: str = Field(max_length=30)
    department: str = Field(max_length=40)
    text: str = Field(max_length=2000)
    urgency: str = Field(default="normal", max_length=10)
    item: str | None = Field(default=None, max_length=60)


class ResponseBody(BaseModel):
    topic: str = Field(max_length=100)
    text: str = Field(max_length=5000)
    keywords: str | None = Field(default=None, max_length=200)


def _check_size() -> None:
    """Refuse an oversized upload before reading it (nothing is stored)."""
    if (request.content_length or 0) > MAX_UPLOAD_BYTES * 2 + 4096:
        raise Invalid(
            "file_too_large",
            "The file is too large (at most %(mb)s MB).",
            mb=MAX_UPLOAD_BYTES // (1024 * 1024),
        )


def _image_bytes(data_url: str) -> bytes:
    """The pad sends a data: URL; a multipart upload sends a file (field "file")."""
    payload = data_url.split(",", 1)[1] if data_url.startswith("data:") else data_url
    try:
        return base64.b64decode(payload, validate=True)
    except (binascii.Error, ValueError):
        raise Invalid("not_an_image", "This file is not a picture (JPEG or PNG).") from None


def _panel(counter):
    s = db_session()
    s.expire_all()
    return ok(counter_panel.panel_for(s, counter))


@bp.post("/api/counters/<int:counter_id>/take")
@require("staff")
def api_take(counter_id: int):
    counter = _counter(counter_id)
    data = body(TakeBody)
    counter_desk.take(db_session(), counter, current_actor(), takeover=data.takeover)
    db_session().commit()
    return _panel(counter)


@bp.post("/api/counters/<int:counter_id>/leave")
@require("staff")
def api_leave(counter_id: int):
    counter = _counter(counter_id)
    queue_busy = queue.current_at_counter(db_session(), counter.id)
    if queue_busy is not None:
        raise Invalid(
            "counter_busy",
            "Finish %(ticket)s first (complete, hold or mark as no-show).",
            ticket=queue_busy.visit.ticket_no,
        )
    counter_desk.leave(db_session(), counter, current_actor())
    db_session().commit()
    return _panel(counter)


@bp.get("/api/counters/<int:counter_id>/panel")
@require("staff")
def api_panel(counter_id: int):
    return _panel(_counter(counter_id))


@bp.post("/api/counters/<int:counter_id>/tickets/<int:visit_step_id>/documents")
@require("staff")
def api_document(counter_id: int, visit_step_id: int):
    counter = _counter(counter_id)
    data = body(DocumentBody)
    verification.record(
        db_session(),
        counter=counter,
        visit_step_id=visit_step_id,
        actor=current_actor(),
        **data.model_dump(),
    )
    return _panel(counter)


@bp.post("/api/counters/<int:counter_id>/tickets/<int:visit_step_id>/fees")
@require("staff")
def api_fee(counter_id: int, visit_step_id: int):
    counter = _counter(counter_id)
    data = body(FeeBody)
    fees.record(
        db_session(),
        counter=counter,
        visit_step_id=visit_step_id,
        actor=current_actor(),
        **data.model_dump(),
    )
    return _panel(counter)


@bp.post("/api/counters/<int:counter_id>/tickets/<int:visit_step_id>/signatures")
@require("staff")
def api_sign(counter_id: int, visit_step_id: int):
    _check_size()
    counter = _counter(counter_id)
    data = body(SignBody)
    signing.sign(
        db_session(),
        counter=counter,
        visit_step_id=visit_step_id,
        actor=current_actor(),
        instance_path=current_app.instance_path,
        document_type_id=data.document_type_id,
        owner_id=data.owner_id,
        signer_name=data.signer_name,
        image=_image_bytes(data.image),
        client_id=data.client_id,
        reason=data.reason,
    )
    return _panel(counter)


@bp.post("/api/counters/<int:counter_id>/tickets/<int:visit_step_id>/absences")
@require("staff")
def api_absence(counter_id: int, visit_step_id: int):
    """A co-owner not present for this visit (未到场 / 委托代签), or present after all."""
    counter = _counter(counter_id)
    data = body(AbsenceBody)
    signing.mark_absence(
        db_session(),
        counter=counter,
        visit_step_id=visit_step_id,
        actor=current_actor(),
        **data.model_dump(),
    )
    return _panel(counter)


@bp.post("/api/counters/<int:counter_id>/tickets/<int:visit_step_id>/keys")
@require("staff")
def api_keys(counter_id: int, visit_step_id: int):
    _check_size()
    counter = _counter(counter_id)
    data = body(KeysBody)
    key_handover.hand_over(
        db_session(),
        counter=counter,
        visit_step_id=visit_step_id,
        actor=current_actor(),
        instance_path=current_app.instance_path,
        items=[i.model_dump() for i in data.items],
        readings=[r.model_dump() for r in data.readings],
        signature=_image_bytes(data.image),
        signer_name=data.signer_name,
        reason=data.reason,
        locale=request_locale(),
    )
    from server.printing import worker as print_worker

    print_worker.wake()
    return _panel(counter)


@bp.post("/api/counters/<int:counter_id>/visits/<int:visit_id>/requests")
@require("staff")
def api_owner_request(counter_id: int, visit_id: int):
    counter = _counter(counter_id)
    data = body(RequestBody)
    owner_requests.raise_request(
        db_session(), counter=counter, visit_id=visit_id, actor=current_actor(), **data.model_dump()
    )
    return _panel(counter)


@bp.get("/api/standard-responses")
@require("staff")
def api_responses():
    q = (request.args.get("q") or "")[:100]
    return ok({"responses": standard_responses.search(db_session(), project_id(), q)})


@bp.post("/api/standard-responses")
@require("supervisor")
def api_publish_response():
    data = body(ResponseBody)
    row = standard_responses.publish(
        db_session(), project_id=project_id(), actor=current_actor(), **data.model_dump()
    )
    return ok(standard_responses.payload(row), 201)


@bp.post("/api/standard-responses/<int:response_id>")
@require("supervisor")
def api_edit_response(response_id: int):
    data = body(ResponseBody)
    row = standard_responses.publish(
        db_session(),
        project_id=project_id(),
        actor=current_actor(),
        supersedes_id=response_id,
        **data.model_dump(),
    )
    return ok(standard_responses.payload(row), 201)


@bp.get("/api/owner-requests")
@require("staff")
def api_owner_requests():
    dept = (request.args.get("department") or "")[:40]
    s = db_session()
    rows = owner_requests.for_department(s, project_id(), dept)
    return ok({"requests": [owner_requests.payload(s, r) for r in rows]})


@bp.get("/requests/")
@bp.get("/requests/<code>")
@require("staff", page=True)
def department_page(code: str | None = None):
    s = db_session()
    depts = owner_requests.departments(s, project_id())
    dept = next((d for d in depts if d.code == code), None) if code else None
    if code and dept is None:
        raise NotFound("unknown_department", "Unknown department.")
    rows = owner_requests.for_department(s, project_id(), dept.code) if dept else []
    return render_template(
        "counter/requests.html",
        departments=depts,
        dept=dept,
        requests=[owner_requests.payload(s, r) for r in rows],
        category_names=CATEGORY_NAMES,
    )
