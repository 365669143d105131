"""Counter station rules as services, on SQLite and PostgreSQL: who holds a counter, the
completion gate and its supervisor override, each panel's refusals, evidence that supersedes
instead of changing, owner requests and standard responses with their live events."""

from __future__ import annotations

import io
import re
from datetime import timedelta
from decimal import Decimal

import pytest
from pypdf import PdfReader
from sqlalchemy import func, select

from server import realtime as rt
from server.engine import Forbidden, Invalid
from server.models import (
    AuditLog,
    Counter,
    FeePayment,
    InspectionResult,
    KeyHandover,
    OwnerAbsence,
    PrintJob,
    StepTransition,
    StoredFile,
    Visit,
    VisitDocument,
    VisitStep,
)
from server.services import (
    acceptance_form,
    checkin,
    counter_desk,
    counter_panel,
    fees,
    key_handover,
    owner_requests,
    queue,
    requirements,
    signing,
    standard_responses,
    verification,
)
from server.services.actor import Actor
from tests.counter_venue import build_counter_venue, signature_png


@pytest.fixture
def ctx(database, tmp_path):
    with database.session() as s:
        cv = build_counter_venue(s)
    s = database.factory()
    yield s, cv, tmp_path
    s.close()


def staff(cv) -> Actor:
    return Actor(staff_id=cv.v.staff["staff"], role="staff", name="测试staff")


def staff2(cv) -> Actor:
    return Actor(staff_id=cv.staff2, role="staff", name="测试二号")


def sup(cv) -> Actor:
    return Actor(staff_id=cv.v.staff["supervisor"], role="supervisor", name="主管")


def at(cv, minutes: int):
    return cv.v.day + timedelta(minutes=minutes)


def arrive(s, cv, i: int = 0, **kw) -> Visit:
    return checkin.check_in(
        s, project_id=cv.v.project_id, code=cv.v.codes[i], actor=staff(cv), now=at(cv, 1), **kw
    )


def call(s, cv, code: str, actor=None, minute: int = 5) -> VisitStep:
    counter_id = cv.v.counters.get(code) or cv.sign_counter
    vs = queue.call_next(s, counter_id=counter_id, actor=actor or staff(cv), now=at(cv, minute))
    assert vs is not None
    return vs


def counter(s, cv, code: str) -> Counter:
    return s.get(Counter, cv.v.counters.get(code) or cv.sign_counter)


def verify_all(s, cv, vs, actor=None) -> None:
    for item in verification.checklist(s, vs):
        if item["required"]:
            verification.record(
                s,
                counter=vs.counter,
                visit_step_id=vs.id,
                actor=actor or staff(cv),
                document_type_id=item["document_type_id"],
                owner_id=item["owner_id"],
                status="seen",
            )


# ---- taking a counter --------------------------------------------------------------------


def test_one_staff_member_per_counter_supervisor_takes_over(ctx, events):
    s, cv, _ = ctx
    w01 = counter(s, cv, "W01")
    counter_desk.take(s, w01, staff(cv))
    s.commit()
    assert w01.staff_id == cv.v.staff["staff"] and w01.staffed_since is not None
    with pytest.raises(Forbidden) as refused:
        counter_desk.take(s, w01, staff2(cv))
    assert refused.value.code == "counter_taken" and refused.value.params["name"] == "测试staff"
    # Another staff member cannot act there either, not even call the next number.
    arrive(s, cv)
    with pytest.raises(Forbidden):
        queue.call_next(s, counter_id=w01.id, actor=staff2(cv), now=at(cv, 5))
    s.rollback()
    with pytest.raises(Forbidden):  # a staff member cannot force a takeover
        counter_desk.take(s, w01, staff2(cv), takeover=True)
    counter_desk.take(s, w01, sup(cv), takeover=True)
    s.commit()
    assert w01.staff_id == cv.v.staff["supervisor"]
    log = s.scalar(select(AuditLog).where(AuditLog.action == "counter.takeover"))
    assert log.data["previous_staff_id"] == cv.v.staff["staff"]
    assert any(e.event == "counter_changed" and rt.counter_room(w01.id) in e.rooms for e in events)
    counter_desk.leave(s, w01, sup(cv))
    s.commit()
    assert w01.staff_id is None


def test_a_free_counter_is_taken_by_the_first_action(ctx):
    s, cv, _ = ctx
    arrive(s, cv)
    vs = call(s, cv, "W01")
    assert vs.counter.staff_id == cv.v.staff["staff"]
    with pytest.raises(Forbidden):  # the ticket's panel actions check the holder too
        verification.record(
            s,
            counter=vs.counter,
            visit_step_id=vs.id,
            actor=staff2(cv),
            document_type_id=verification.checklist(s, vs)[0]["document_type_id"],
            owner_id=verification.checklist(s, vs)[0]["owner_id"],
            status="seen",
        )


# ---- verification and the completion gate ------------------------------------------------


def test_verify_checklist_per_owner_and_agent(ctx):
    s, cv, _ = ctx
    visit = arrive(s, cv)
    vs = call(s, cv, "W01")
    items = verification.checklist(s, vs)
    names = [(i["code"], i["owner"]) for i in items]
    assert (
        names.count(("id_card", "李*花")) == 1 and len([n for n in names if n[0] == "id_card"]) == 2
    )
    assert "poa" not in [i["code"] for i in items]  # no agent: no power of attorney asked
    visit.party_role = "agent"
    visit.agent_name = "赵律师"
    s.commit()
    assert "poa" in [i["code"] for i in verification.checklist(s, vs)]


def test_missing_required_document_holds_the_visit_with_the_reason(ctx):
    s, cv, _ = ctx
    arrive(s, cv)
    vs = call(s, cv, "W01")
    contract = next(i for i in verification.checklist(s, vs) if i["code"] == "contract")
    verification.record(
        s,
        counter=vs.counter,
        visit_step_id=vs.id,
        actor=staff(cv),
        document_type_id=contract["document_type_id"],
        status="missing",
        note="忘带了",
    )
    s.refresh(vs)
    assert vs.state == "held" and vs.note == "缺少资料：购房合同"
    hold = s.scalar(select(StepTransition).where(StepTransition.action == "hold"))
    assert hold.reason == "缺少资料：购房合同"
    frame = counter_panel._frame(s, vs)
    assert frame["holds"][0]["reason"] == "缺少资料：购房合同"


def test_complete_is_refused_while_something_is_missing_then_allowed(ctx):
    s, cv, _ = ctx
    arrive(s, cv)
    vs = call(s, cv, "W01")
    with pytest.raises(Invalid) as refused:
        queue.complete(s, visit_step_id=vs.id, counter_id=vs.counter_id, actor=staff(cv))
    assert refused.value.code == "step_incomplete" and "购房合同" in refused.value.params["what"]
    s.rollback()
    # A first mark corrected: the old row stays, the new one names it and says why.
    item = verification.checklist(s, vs)[0]
    key = {"document_type_id": item["document_type_id"], "owner_id": item["owner_id"]}
    verification.record(
        s, counter=vs.counter, visit_step_id=vs.id, actor=staff(cv), status="seen", **key
    )
    verification.record(
        s,
        counter=vs.counter,
        visit_step_id=vs.id,
        actor=staff(cv),
        status="seen",
        note="复核",
        reason="第二次核对原件",
        **key,
    )
    rows = s.scalars(
        select(VisitDocument)
        .where(
            VisitDocument.document_type_id == item["document_type_id"],
            VisitDocument.owner_id == item["owner_id"],
        )
        .order_by(VisitDocument.id)
    ).all()
    assert len(rows) == 2 and rows[1].supersedes_id == rows[0].id
    assert rows[1].correction_reason == "第二次核对原件" and rows[0].status == "seen"
    verify_all(s, cv, vs)
    assert requirements.missing(s, vs) == []
    queue.complete(s, visit_step_id=vs.id, counter_id=vs.counter_id, actor=staff(cv))
    assert vs.state == "done"


def test_supervisor_override_with_reason_is_logged(ctx):
    s, cv, _ = ctx
    arrive(s, cv)
    vs = call(s, cv, "W01")
    with pytest.raises(Forbidden):
        queue.complete(
            s,
            visit_step_id=vs.id,
            counter_id=vs.counter_id,
            actor=staff(cv),
            override_reason="业主承诺补交",
        )
    s.rollback()
    queue.complete(
        s,
        visit_step_id=vs.id,
        counter_id=vs.counter_id,
        actor=sup(cv),
        override_reason="业主承诺补交",
    )
    assert vs.state == "done"
    log = s.scalar(select(AuditLog).where(AuditLog.action == "step.override_complete"))
    assert log.data["reason"] == "业主承诺补交" and "购房合同" in log.data["missing"]
    done = s.scalar(select(StepTransition).where(StepTransition.action == "complete"))
    assert done.reason == "业主承诺补交"


def test_complete_from_called_counts_service_from_the_call_and_marks_it(ctx):
    s, cv, _ = ctx
    arrive(s, cv)
    vs = call(s, cv, "W01", minute=5)
    verify_all(s, cv, vs)
    queue.complete(
        s, visit_step_id=vs.id, counter_id=vs.counter_id, actor=staff(cv), now=at(cv, 12)
    )
    assert vs.started_at == at(cv, 5) == vs.called_at  # not a zero-minute service
    assert (vs.finished_at - vs.started_at) == timedelta(minutes=7)
    start = s.scalar(select(StepTransition).where(StepTransition.action == "start"))
    assert start.at == at(cv, 5) and "implicit" in start.reason


def test_registry_plugs_in_another_kind(ctx, monkeypatch):
    s, cv, _ = ctx
    arrive(s, cv)
    vs = call(s, cv, "W01")
    monkeypatch.setitem(
        requirements.MISSING,
        "verify",
        lambda s, vs: [{"code": "x", "text_zh": "验房单", "text_en": "form"}],
    )
    with pytest.raises(Invalid) as refused:
        queue.complete(s, visit_step_id=vs.id, counter_id=vs.counter_id, actor=staff(cv))
    assert refused.value.params["what"] == "验房单"


# ---- fees ---------------------------------------------------------------------------------


def test_fees_paid_needs_receipt_waiver_needs_a_supervisor(ctx):
    s, cv, _ = ctx
    visit = arrive(s, cv)
    queue.skip(s, visit_id=visit.id, step_code="verify", actor=sup(cv), reason="已预审")
    vs = call(s, cv, "W03")
    items = fees.panel(s, vs)["items"]
    assert [i["amount"] for i in items] == ["3436.80", "10740.05"]
    first, second = items
    with pytest.raises(Invalid):
        fees.record(
            s,
            counter=vs.counter,
            visit_step_id=vs.id,
            actor=staff(cv),
            unit_fee_id=first["unit_fee_id"],
            status="paid",
            method="pos",
        )
    s.rollback()
    fees.record(
        s,
        counter=vs.counter,
        visit_step_id=vs.id,
        actor=staff(cv),
        unit_fee_id=first["unit_fee_id"],
        status="paid",
        method="pos",
        receipt_no="R001",
    )
    with pytest.raises(Forbidden):
        fees.record(
            s,
            counter=vs.counter,
            visit_step_id=vs.id,
            actor=staff(cv),
            unit_fee_id=second["unit_fee_id"],
            status="waived",
            reason="开发商承担",
        )
    s.rollback()
    with pytest.raises(Invalid):
        fees.record(
            s,
            counter=vs.counter,
            visit_step_id=vs.id,
            actor=sup(cv),
            unit_fee_id=second["unit_fee_id"],
            status="waived",
            reason=" ",
        )
    s.rollback()
    fees.record(
        s,
        counter=vs.counter,
        visit_step_id=vs.id,
        actor=sup(cv),
        unit_fee_id=second["unit_fee_id"],
        status="waived",
        reason="开发商承担",
    )
    panel = fees.panel(s, vs)
    assert panel["totals"] == {
        "due": "14176.85",
        "paid": "3436.80",
        "waived": "10740.05",
        "outstanding": "0.00",
    }
    waiver = s.scalar(select(FeePayment).where(FeePayment.status == "waived"))
    assert waiver.approved_by_id == cv.v.staff["supervisor"] and waiver.amount == Decimal(
        "10740.05"
    )
    queue.complete(s, visit_step_id=vs.id, counter_id=vs.counter_id, actor=staff(cv))
    assert vs.state == "done"


# ---- signing ------------------------------------------------------------------------------


def test_each_owner_signs_and_a_signature_is_never_overwritten(ctx):
    s, cv, tmp = ctx
    visit = arrive(s, cv)
    for code in ("verify", "fees"):
        queue.skip(s, visit_id=visit.id, step_code=code, actor=sup(cv), reason="测试")
    vs = call(s, cv, "W10")
    doc = signing.panel(s, vs)["documents"][0]
    assert len(doc["signatures"]) == 2  # principal and co-owner
    for i, sig in enumerate(doc["signatures"]):
        signing.sign(
            s,
            counter=vs.counter,
            visit_step_id=vs.id,
            actor=staff(cv),
            instance_path=tmp,
            document_type_id=doc["document_type_id"],
            owner_id=sig["owner_id"],
            image=signature_png(i * 10),
            signer_name="签字人",
        )
    assert requirements.missing(s, vs) == []
    first = doc["signatures"][0]
    with pytest.raises(Invalid) as refused:
        signing.sign(
            s,
            counter=vs.counter,
            visit_step_id=vs.id,
            actor=staff(cv),
            instance_path=tmp,
            document_type_id=doc["document_type_id"],
            owner_id=first["owner_id"],
            image=signature_png(99),
        )
    assert refused.value.code == "already_signed"
    s.rollback()
    again = signing.sign(
        s,
        counter=vs.counter,
        visit_step_id=vs.id,
        actor=staff(cv),
        instance_path=tmp,
        document_type_id=doc["document_type_id"],
        owner_id=first["owner_id"],
        image=signature_png(99),
        reason="笔迹不清",
    )
    assert again.supersedes_id is not None and again.correction_reason == "笔迹不清"
    files = s.scalars(select(StoredFile)).all()
    assert len(files) == 3 and all((tmp / f.path).exists() for f in files)
    with pytest.raises(Invalid):  # a renamed executable is no signature; nothing stored
        signing.sign(
            s,
            counter=vs.counter,
            visit_step_id=vs.id,
            actor=staff(cv),
            instance_path=tmp,
            document_type_id=doc["document_type_id"],
            owner_id=first["owner_id"],
            image=b"MZ\x90\x00" + b"\x00" * 500,
            reason="x",
        )
    s.rollback()
    assert s.scalar(select(func.count()).select_from(StoredFile)) == 3


def test_a_co_owner_not_present_is_no_longer_asked_to_sign(ctx):
    s, cv, tmp = ctx
    visit = arrive(s, cv)
    for code in ("verify", "fees"):
        queue.skip(s, visit_id=visit.id, step_code=code, actor=sup(cv), reason="测试")
    vs = call(s, cv, "W10")
    panel = signing.panel(s, vs)
    principal, co = (o["owner_id"] for o in panel["owners"])
    doc = panel["documents"][0]

    def mark(owner_id, **kw):
        return signing.mark_absence(
            s, counter=vs.counter, visit_step_id=vs.id, actor=staff(cv), owner_id=owner_id, **kw
        )

    def sign_for(owner_id):
        return signing.sign(
            s,
            counter=vs.counter,
            visit_step_id=vs.id,
            actor=staff(cv),
            instance_path=tmp,
            document_type_id=doc["document_type_id"],
            owner_id=owner_id,
            image=signature_png(),
        )

    sign_for(principal)
    # The gate still asks for the co-owner's signature.
    assert [m["code"] for m in requirements.missing(s, vs)] == ["signature"]
    assert "李*花" in requirements.missing(s, vs)[0]["text_zh"]

    # Bad input: a clear message, nothing recorded.
    for kw, code in (
        ({"owner_id": co, "reason": "busy"}, "bad_absence_reason"),
        ({"owner_id": co, "reason": None}, "bad_absence_reason"),
        ({"owner_id": principal, "reason": "not_present"}, "owner_has_signed"),
        ({"owner_id": 999_999, "reason": "not_present"}, "not_an_owner"),
        ({"owner_id": co, "absent": False}, "not_absent"),
    ):
        with pytest.raises(Invalid) as refused:
            mark(**kw)
        assert refused.value.code == code
        s.rollback()
    assert s.scalar(select(func.count()).select_from(OwnerAbsence)) == 0

    row = mark(co, reason="proxy_signing", note="由配偶代签")
    assert requirements.missing(s, vs) == []  # the gate passes now
    sig = signing.panel(s, vs)["documents"][0]["signatures"][1]
    assert not sig["signed"] and sig["absent"]["reason_zh"] == "委托代签"
    owners = signing.panel(s, vs)["owners"]
    assert owners[1]["absent"]["note"] == "由配偶代签" and owners[0]["absent"] is None
    with pytest.raises(Invalid) as refused:  # marked absent: no signature in their name
        sign_for(co)
    assert refused.value.code == "owner_marked_absent"
    s.rollback()
    with pytest.raises(Invalid) as refused:
        mark(co, reason="not_present")
    assert refused.value.code == "already_absent"
    s.rollback()
    assert s.scalar(
        select(func.count()).select_from(AuditLog).where(AuditLog.action == "signing.owner_absent")
    )

    # The acceptance form's list of owners says who did not sign, and why.
    pdf = acceptance_form.render(s, visit, tmp)
    text = re.sub(
        r"[\s\x00]+", "", "".join(p.extract_text() for p in PdfReader(io.BytesIO(pdf)).pages)
    )
    assert "李春花（委托代签）" in text

    # They came after all: a newer row; the first stays as evidence; the gate asks again.
    back = mark(co, absent=False, note="本人随后到场")
    rows = s.scalars(select(OwnerAbsence).order_by(OwnerAbsence.id)).all()
    assert [(r.absent, r.reason) for r in rows] == [(True, "proxy_signing"), (False, None)]
    assert back.supersedes_id == row.id and back.correction_reason == "本人随后到场"
    assert [m["code"] for m in requirements.missing(s, vs)] == ["signature"]
    sign_for(co)
    assert requirements.missing(s, vs) == []


def test_the_last_owner_present_cannot_be_marked_absent(ctx):
    s, cv, _tmp = ctx
    visit = arrive(s, cv)
    for code in ("verify", "fees"):
        queue.skip(s, visit_id=visit.id, step_code=code, actor=sup(cv), reason="测试")
    vs = call(s, cv, "W10")
    principal, co = (o["owner_id"] for o in signing.panel(s, vs)["owners"])
    signing.mark_absence(
        s,
        counter=vs.counter,
        visit_step_id=vs.id,
        actor=staff(cv),
        owner_id=co,
        reason="not_present",
    )
    with pytest.raises(Invalid) as refused:
        signing.mark_absence(
            s,
            counter=vs.counter,
            visit_step_id=vs.id,
            actor=staff(cv),
            owner_id=principal,
            reason="not_present",
        )
    assert refused.value.code == "last_owner_present"
    s.rollback()
    with pytest.raises(Forbidden):  # another staff member does not hold this counter
        signing.mark_absence(
            s,
            counter=vs.counter,
            visit_step_id=vs.id,
            actor=staff2(cv),
            owner_id=co,
            absent=False,
        )
    s.rollback()
    assert s.scalar(select(func.count()).select_from(OwnerAbsence)) == 1


# ---- keys ---------------------------------------------------------------------------------


def _keys_args(s, vs, tmp, **kw):
    panel = key_handover.panel(s, vs)
    args = dict(
        counter=vs.counter,
        visit_step_id=vs.id,
        instance_path=tmp,
        items=[
            {"key_item_type_id": i["key_item_type_id"], "handed": i["quantity"]}
            for i in panel["items"]
        ],
        readings=[
            {"meter_type_id": m["meter_type_id"], "reading": "12.5", "meter_no": "W-1"}
            for m in panel["meters"]
        ],
        signature=signature_png(),
    )
    args.update(kw)
    return args


def test_keys_refused_until_earlier_steps_are_done(ctx):
    s, cv, tmp = ctx
    visit = arrive(s, cv)
    queue.transfer(s, visit_id=visit.id, to_step="keys", actor=staff(cv), reason="先交钥匙")
    vs = call(s, cv, "W04")
    codes = [b["code"] for b in key_handover.blockers(s, vs)]
    assert codes == ["step_not_done", "step_not_done", "step_not_done"]
    with pytest.raises(Invalid) as refused:
        key_handover.hand_over(s, actor=staff(cv), **_keys_args(s, vs, tmp))
    assert (
        refused.value.code == "keys_refused" and "资料审核尚未完成" in refused.value.params["why"]
    )


def test_keys_refused_after_a_refused_inspection(ctx):
    s, cv, tmp = ctx
    visit = arrive(s, cv)
    s.add(InspectionResult(visit_id=visit.id, outcome="refused", reason="客厅墙面大面积开裂"))
    for code in ("verify", "fees", "sign"):
        queue.skip(s, visit_id=visit.id, step_code=code, actor=sup(cv), reason="测试")
    vs = call(s, cv, "W04")
    with pytest.raises(Invalid) as refused:
        key_handover.hand_over(s, actor=staff(cv), **_keys_args(s, vs, tmp))
    assert "验房拒收" in refused.value.params["why"] and "开裂" in refused.value.params["why"]


def test_keys_counted_read_signed_and_the_receipt_queued(ctx):
    s, cv, tmp = ctx
    visit = arrive(s, cv)
    for code in ("verify", "fees", "sign"):
        queue.skip(s, visit_id=visit.id, step_code=code, actor=sup(cv), reason="测试")
    vs = call(s, cv, "W04")
    assert [m["code"] for m in requirements.missing(s, vs)] == ["keys"]
    short = [
        {"key_item_type_id": key_handover.panel(s, vs)["items"][0]["key_item_type_id"], "handed": 2}
    ]
    with pytest.raises(Invalid) as refused:
        key_handover.hand_over(s, actor=staff(cv), **_keys_args(s, vs, tmp, items=short))
    assert refused.value.code == "shortfall_reason"
    s.rollback()
    with pytest.raises(Invalid) as refused:
        key_handover.hand_over(s, actor=staff(cv), **_keys_args(s, vs, tmp, readings=[]))
    assert refused.value.code == "meter_reading_required"
    s.rollback()
    short[0]["note"] = "一把在物业保管"
    done = key_handover.hand_over(s, actor=staff(cv), **_keys_args(s, vs, tmp, items=short))
    assert done.shortfall and done.items[0].handed == 2 and done.items[0].expected == 3
    assert [str(r.reading) for r in done.readings] == ["12.50", "12.50"]
    job = s.get(PrintJob, done.print_job_id)
    assert job.kind == "key_receipt" and job.visit_id == visit.id
    assert "钥匙交接单" in str(job.payload) and "一把在物业保管" in str(job.payload)
    # The record keeps who signed in full; the panel, seen across the desk, shows it masked.
    assert done.signer_name == visit.owner.name and len(done.signer_name) >= 2
    shown = key_handover.panel(s, vs)["handover"]["signer_name"]
    assert shown == visit.owner.masked_name and shown != done.signer_name
    assert requirements.missing(s, vs) == []
    queue.complete(s, visit_step_id=vs.id, counter_id=vs.counter_id, actor=staff(cv))
    s.refresh(visit)
    assert visit.status == "finished"
    assert s.scalar(select(func.count()).select_from(KeyHandover)) == 1


# ---- owner requests, standard responses, transfer event ---------------------------------


def test_owner_request_reaches_supervisor_and_department(ctx, events):
    s, cv, _ = ctx
    visit = arrive(s, cv)
    vs = call(s, cv, "W01")
    kw = dict(
        counter=vs.counter,
        visit_id=visit.id,
        actor=staff(cv),
        category="construction_quality",
        text="车库渗水什么时候修好？",
        urgency="urgent",
    )
    with pytest.raises(Invalid):
        owner_requests.raise_request(s, department="nowhere", **kw)
    s.rollback()
    owner_requests.raise_request(s, department="engineering", **kw)
    sent = [e for e in events if e.event == "owner_request_created"]
    assert (
        sent and rt.SUPERVISOR in sent[0].rooms and sent[0].payload["ticket_no"] == visit.ticket_no
    )
    today = s.get(Visit, visit.id).checked_in_at.date()
    listed = owner_requests.for_department(s, cv.v.project_id, "engineering")
    assert [r.text for r in listed] == ["车库渗水什么时候修好？"] or today != listed
    assert owner_requests.for_department(s, cv.v.project_id, "customer_service") == []
    assert counter_panel._frame(s, vs)["requests"][0]["urgency"] == "urgent"


def test_standard_responses_publish_edit_search_and_broadcast(ctx, events):
    s, cv, _ = ctx
    pid = cv.v.project_id
    with pytest.raises(Forbidden):
        standard_responses.publish(s, project_id=pid, actor=staff(cv), topic="车库", text="x")
    s.rollback()
    first = standard_responses.publish(
        s,
        project_id=pid,
        actor=sup(cv),
        topic="地下车库渗水",
        text="30天内完成注浆堵漏。",
        keywords="车库 渗水",
    )
    edited = standard_responses.publish(
        s,
        project_id=pid,
        actor=sup(cv),
        topic="地下车库渗水",
        text="20天内完成注浆堵漏。",
        supersedes_id=first.id,
    )
    found = standard_responses.search(s, pid, "车库")
    assert [r["id"] for r in found] == [edited.id] and found[0]["text"].startswith("20天")
    with pytest.raises(Invalid):  # the old one cannot be edited a second time
        standard_responses.publish(
            s, project_id=pid, actor=sup(cv), topic="t", text="t", supersedes_id=first.id
        )
    sent = [e for e in events if e.event == "standard_response_published"]
    assert (
        len(sent) == 2
        and rt.STAFF in sent[1].rooms
        and sent[1].payload["supersedes_id"] == first.id
    )


def test_transfer_is_announced_to_the_target_counters(ctx, events):
    s, cv, _ = ctx
    visit = arrive(s, cv)
    queue.transfer(s, visit_id=visit.id, to_step="fees", actor=staff(cv), reason="先缴费")
    sent = [e for e in events if e.event == "ticket_transferred"]
    assert sent and rt.counter_room(cv.v.counters["W03"]) in sent[0].rooms
    assert rt.counter_room(cv.v.counters["W09"]) in sent[0].rooms  # serves fees too
    assert rt.counter_room(cv.v.counters["W01"]) not in sent[0].rooms
