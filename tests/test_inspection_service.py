"""Inspection service rules on SQLite and PostgreSQL: uploads from the tablet are idempotent,
corrections supersede, a refusal ends the visit with a follow-up case, and uploads that arrive
after the visit changed are kept and flagged for the supervisor."""

from __future__ import annotations

import io
from datetime import date, timedelta

import pytest
from pypdf import PdfReader
from sqlalchemy import func, select

from server.engine import Invalid
from server.models import (
    Counter,
    Defect,
    DefectPhoto,
    FollowUpCase,
    InspectionCheck,
    InspectionResult,
    InspectionSyncIssue,
    Printer,
    PrintJob,
    StoredFile,
    Visit,
)
from server.services import acceptance_form, inspection, queue
from server.services.actor import Actor
from tests.conftest import build_venue
from tests.inspect_venue import add_inspection, jpeg, png, to_inspection


@pytest.fixture
def ctx(database, tmp_path):
    with database.session() as s:
        venue = build_venue(s)
        ids = add_inspection(s, venue)
    s = database.factory()
    yield s, venue, ids, tmp_path / "instance"
    s.close()


def inspector(venue) -> Actor:
    return Actor(staff_id=venue.staff["staff"], role="staff", name="测试staff")


def count(s, model, *where) -> int:
    return s.scalar(select(func.count()).select_from(model).where(*where))


def test_retried_uploads_return_the_row_already_stored(ctx):
    s, v, ids, inst = ctx
    visit = to_inspection(s, v, ids)
    me = inspector(v)
    kw = dict(visit_id=visit.id, counter_id=ids["Y01"], actor=me)
    photo = inspection.store_photo(s, inst, jpeg(), kind="photo", client_id="photo-0001", actor=me)
    again = inspection.store_photo(s, inst, jpeg(), kind="photo", client_id="photo-0001", actor=me)
    assert again.id == photo.id
    for _ in range(2):
        inspection.record_check(
            s, **kw, client_id="check-0001", room_code="living", item_code="wall", result="ok"
        )
        saved = inspection.record_defect(
            s,
            **kw,
            client_id="defect-0001",
            room="bathroom",
            item="plumbing",
            description="地漏返水",
            pin_x=0.25,
            pin_y=0.8,
            photo_client_ids=["photo-0001"],
        )
    assert saved.created is False and saved.attention is None
    assert count(s, InspectionCheck) == 1
    assert count(s, Defect) == 1
    assert count(s, DefectPhoto) == 1
    assert count(s, StoredFile) == 1
    d = s.scalar(select(Defect))
    assert (d.pin_x, d.pin_y, d.room) == (0.25, 0.8, "bathroom")


def test_a_changed_answer_supersedes_and_a_voided_defect_disappears(ctx):
    s, v, ids, _ = ctx
    visit = to_inspection(s, v, ids)
    kw = dict(visit_id=visit.id, counter_id=ids["Y01"], actor=inspector(v))
    first = inspection.record_check(
        s, **kw, client_id="check-0001", room_code="kitchen", item_code="gas", result="ok"
    ).row
    second = inspection.record_check(
        s, **kw, client_id="check-0002", room_code="kitchen", item_code="gas", result="defect"
    ).row
    assert second.supersedes_id == first.id and second.correction_reason
    assert inspection.current_checks(s, visit.id)[("kitchen", "gas")].result == "defect"
    assert s.get(InspectionCheck, first.id).result == "ok"  # never updated in place

    inspection.record_defect(
        s, **kw, client_id="defect-0001", room="master", item="wall", description="空鼓"
    )
    d2 = inspection.record_defect(
        s,
        **kw,
        client_id="defect-0002",
        room="master",
        item="wall",
        description="空鼓约20cm",
        supersedes_client_id="defect-0001",
        correction_reason="业主补充",
    ).row
    assert [d.id for d in inspection.current_defects(s, visit.id)] == [d2.id]
    with pytest.raises(Invalid):  # a second correction of the same row would fork the chain
        inspection.record_defect(
            s,
            **kw,
            client_id="defect-0003",
            room="master",
            item="wall",
            description="x",
            supersedes_client_id="defect-0001",
        )
    inspection.record_defect(
        s,
        **kw,
        client_id="defect-0004",
        room="master",
        item="wall",
        description="",
        supersedes_client_id="defect-0002",
        voided=True,
    )
    assert inspection.current_defects(s, visit.id) == []
    assert count(s, Defect) == 3


def test_refusal_ends_the_visit_and_opens_a_case_once(ctx, events):
    s, v, ids, inst = ctx
    visit = to_inspection(s, v, ids)
    me = inspector(v)
    kw = dict(visit_id=visit.id, counter_id=ids["Y01"], actor=me)
    with pytest.raises(Invalid):
        inspection.record_outcome(s, **kw, client_id="result-0001", outcome="refused")
    inspection.store_photo(s, inst, png(), kind="signature", client_id="sig-00001", actor=me)
    for _ in range(2):
        saved = inspection.record_outcome(
            s,
            **kw,
            client_id="result-0001",
            outcome="refused",
            reason="客厅地面大面积空鼓，要求整改后再收房",
            signer_name="王小明",
            signature_client_id="sig-00001",
        )
    assert saved.attention is None
    s.expire_all()
    visit = s.get(Visit, visit.id)
    assert visit.status == "refused"
    assert all(st.state in ("cancelled", "done", "skipped") for st in visit.steps)
    cases = s.scalars(select(FollowUpCase)).all()
    assert [(c.kind, c.visit_id) for c in cases] == [("refused", visit.id)]
    assert "空鼓" in cases[0].reason
    assert inspection.missing(s, visit) == []
    # It left every queue: the other inspection team finds nobody to call.
    assert (
        queue.call_next(s, counter_id=ids["Y02"], actor=me, now=v.day + timedelta(minutes=5))
        is None
    )
    refused = [e for e in events if e.event == "visit_updated" and e.payload["status"] == "refused"]
    assert len(refused) == 1  # staff screens and the owner's phone hear it once


def test_missing_lists_outcome_then_signature(ctx):
    s, v, ids, inst = ctx
    visit = to_inspection(s, v, ids)
    me = inspector(v)
    kw = dict(visit_id=visit.id, counter_id=ids["Y01"], actor=me)
    assert inspection.missing(s, visit) == ["The inspection has no outcome yet."]
    with pytest.raises(Invalid):  # accepted with defects needs the promised date
        inspection.record_outcome(s, **kw, client_id="result-0001", outcome="accepted_with_defects")
    inspection.record_outcome(
        s,
        **kw,
        client_id="result-0002",
        outcome="accepted_with_defects",
        promised_date=date(2026, 12, 30),
    )
    assert inspection.missing(s, visit) == [
        "The owner has not signed the acceptance form.",
        "Accepted with defects, but no defect is recorded.",
    ]
    inspection.record_defect(
        s, **kw, client_id="defect-0001", room="balcony", item="plumbing", description="地漏慢"
    )
    inspection.store_photo(s, inst, png(), kind="signature", client_id="sig-00001", actor=me)
    r = inspection.record_outcome(
        s,
        **kw,
        client_id="result-0003",
        outcome="accepted_with_defects",
        promised_date=date(2026, 12, 30),
        signature_client_id="sig-00001",
    ).row
    assert r.supersedes_id is not None
    assert inspection.missing(s, visit) == []


def test_uploads_after_the_visit_was_cancelled_are_kept_and_flagged(ctx):
    s, v, ids, _inst = ctx
    visit = to_inspection(s, v, ids)
    me = inspector(v)
    sup = Actor(staff_id=v.staff["supervisor"], role="supervisor")
    queue.cancel(s, visit_id=visit.id, actor=sup, reason="业主改期")
    kw = dict(visit_id=visit.id, counter_id=ids["Y01"], actor=me)
    saved = inspection.record_defect(
        s, **kw, client_id="defect-0001", room="living", item="wall", description="墙面裂缝"
    )
    assert saved.created and saved.attention.code == "visit_not_active"
    again = inspection.record_defect(
        s, **kw, client_id="defect-0001", room="living", item="wall", description="墙面裂缝"
    )
    assert not again.created and again.attention.code == "visit_not_active"
    out = inspection.record_outcome(
        s, **kw, client_id="result-0001", outcome="refused", reason="不满意"
    )
    assert out.attention.code == "visit_not_active"
    s.expire_all()
    assert s.get(Visit, visit.id).status == "cancelled"  # the refusal did not act
    assert count(s, FollowUpCase) == 0
    listed = inspection.open_sync_issues(s, v.project_id)
    assert [(i["entity"], i["code"]) for i in listed] == [
        ("defect", "visit_not_active"),
        ("result", "visit_not_active"),
    ]
    inspection.resolve_sync_issue(s, listed[0]["id"], actor=sup, resolution="已电话联系业主")
    assert len(inspection.open_sync_issues(s, v.project_id)) == 1
    assert count(s, Defect) == 1 and count(s, InspectionResult) == 1


def test_upload_for_a_visit_moved_to_another_team_is_flagged(ctx):
    s, v, ids, _ = ctx
    visit = to_inspection(s, v, ids)
    me = inspector(v)
    # A supervisor sends the visit back to the queue; team 2 calls it.
    queue.transfer(s, visit_id=visit.id, to_step="verify", actor=me)
    queue.transfer(s, visit_id=visit.id, to_step="inspect", actor=me)
    queue.call_next(s, counter_id=ids["Y02"], actor=me, now=v.day + timedelta(minutes=9))
    saved = inspection.record_check(
        s,
        visit_id=visit.id,
        counter_id=ids["Y01"],
        actor=me,
        client_id="check-0001",
        room_code="living",
        item_code="wall",
        result="ok",
    )
    assert saved.attention.code == "other_counter"
    assert count(s, InspectionSyncIssue) == 1


def test_outcome_queues_the_defect_list_with_pin_positions_and_renders_the_form(ctx):
    s, v, ids, inst = ctx
    s.add(
        Printer(project_id=v.project_id, name="验房打印机", counter_id=ids["Y01"], host="127.0.0.1")
    )
    s.commit()
    visit = to_inspection(s, v, ids)
    me = inspector(v)
    kw = dict(visit_id=visit.id, counter_id=ids["Y01"], actor=me)
    inspection.store_photo(s, inst, jpeg(), kind="photo", client_id="photo-0001", actor=me)
    inspection.record_defect(
        s,
        **kw,
        client_id="defect-0001",
        room="master",
        item="wall",
        description="墙面空鼓",
        pin_x=0.1,
        pin_y=0.2,
        photo_client_ids=["photo-0001"],
    )
    inspection.store_photo(s, inst, png(), kind="signature", client_id="sig-00001", actor=me)
    inspection.record_outcome(
        s,
        **kw,
        client_id="result-0001",
        outcome="accepted_with_defects",
        promised_date=date(2026, 12, 30),
        signature_client_id="sig-00001",
        signer_name="王小明",
    )
    job = s.scalar(select(PrintJob).where(PrintJob.kind == "defect_list"))
    assert "主卧 · 平面图左上" in str(job.payload)
    assert job.visit_id == visit.id and job.printer_id is not None
    pdf = acceptance_form.render(s, visit, inst)
    text = "".join(p.extract_text() for p in PdfReader(io.BytesIO(pdf)).pages)
    words = "".join(text.replace("\x00", "").split())
    for expected in (
        "房屋交付验收单",
        "墙面空鼓",
        "平面图左上",
        "带问题接收",
        "2026-12-30",
        "王小明",
    ):
        assert expected in words, expected


def test_known_issue_answers_are_idempotent_and_a_change_supersedes(ctx):
    s, v, ids, _ = ctx
    visit = to_inspection(s, v, ids)
    kw = dict(visit_id=visit.id, counter_id=ids["Y01"], actor=inspector(v))
    ki = ids["known_issue"]
    a = inspection.confirm_known_issue(
        s, **kw, client_id="known-0001", known_issue_id=ki, result="still_open"
    )
    again = inspection.confirm_known_issue(
        s, **kw, client_id="known-0001", known_issue_id=ki, result="still_open"
    )
    assert again.row.id == a.row.id and not again.created
    b = inspection.confirm_known_issue(
        s, **kw, client_id="known-0002", known_issue_id=ki, result="fixed"
    ).row
    assert b.supersedes_id == a.row.id
    assert inspection.current_known_checks(s, visit.id)[ki].result == "fixed"
    with pytest.raises(Invalid):
        inspection.confirm_known_issue(
            s, **kw, client_id="known-0003", known_issue_id=ki, result="maybe"
        )
    data = inspection.walk_data(s, visit, s.get(Counter, ids["Y01"]))
    assert data["recorded"]["known_issues"] == [
        {"known_issue_id": ki, "result": "fixed", "client_id": "known-0002"}
    ]


def test_pin_positions_in_words():
    assert inspection.position_words(0.1, 0.1) == "平面图左上"
    assert inspection.position_words(0.5, 0.5) == "平面图中部"
    assert inspection.position_words(0.9, 0.95, "en") == "plan bottom right"
    assert inspection.position_words(None, None) is None
