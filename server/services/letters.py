"""Urging letters (催告函): the admin's template (an edit is a new row, the newest wins) and
sending letters for follow-up cases. Each letter sent is recorded on its case (date, who,
the PDF), so a second letter for the same case is refused unless staff confirm it."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from server import clock
from server.engine import Invalid, NotFound
from server.models import (
    Appointment,
    CaseNote,
    FollowUpCase,
    LetterTemplate,
    Project,
    StoredFile,
    UrgingLetter,
)
from server.reports.facts import load as load_facts
from server.reports.letters import (
    DEFAULT_BODY,
    DEFAULT_TITLE,
    LetterData,
    fill,
    letters_pdf,
    unknown_placeholders,
)

from . import audit
from .actor import Actor
from .followup import _need


@dataclass
class Template:
    id: int | None
    title: str
    body: str


def current_template(session: Session, project_id: int) -> Template:
    row = session.scalar(
        select(LetterTemplate)
        .where(LetterTemplate.project_id == project_id)
        .order_by(LetterTemplate.created_at.desc(), LetterTemplate.id.desc())
        .limit(1)
    )
    if row is None:
        return Template(None, DEFAULT_TITLE, DEFAULT_BODY)
    return Template(row.id, row.title, row.body)


def save_template(
    session: Session, *, project_id: int, title: str, body: str, actor: Actor
) -> LetterTemplate:
    """Admins edit the letter; the old text stays as the record of letters already sent."""
    _need(actor, "admin")
    title, body = (title or "").strip(), (body or "").strip()
    if not title or not body:
        raise Invalid("template_empty", "The letter needs a title and a text.")
    if len(title) > 100 or len(body) > 5000:
        raise Invalid("template_too_long", "The letter is too long.")
    unknown = unknown_placeholders(title + body)
    if unknown:
        raise Invalid(
            "unknown_placeholder",
            "Unknown placeholder: %(names)s",
            names=", ".join("{" + u + "}" for u in unknown),
        )
    row = LetterTemplate(
        project_id=project_id,
        title=title,
        body=body,
        staff_id=actor.staff_id,
        created_at=clock.now(),
    )
    session.add(row)
    session.flush()
    audit.record(session, actor, "letter_template.save", "letter_template", row.id)
    session.commit()
    return row


def already_sent(session: Session, case_ids: list[int]) -> dict[int, date]:
    """Case id -> date of its last letter, for the cases that had one."""
    out: dict[int, date] = {}
    for case_id, sent_on in session.execute(
        select(UrgingLetter.case_id, UrgingLetter.sent_on)
        .where(UrgingLetter.case_id.in_(case_ids))
        .order_by(UrgingLetter.sent_on, UrgingLetter.id)
    ):
        out[case_id] = sent_on
    return out


def send_letters(
    session: Session,
    *,
    project_id: int,
    case_ids: list[int],
    deadline: date,
    actor: Actor,
    instance_path: str | Path,
    confirm_resend: bool = False,
) -> tuple[bytes, list[UrgingLetter]]:
    """One PDF page per case; every letter recorded on its case with date, who and the file."""
    _need(actor, "supervisor")
    case_ids = sorted(set(case_ids))
    if not case_ids:
        raise Invalid("no_cases", "Choose at least one case.")
    today = clock.today()
    if deadline < today:
        raise Invalid("deadline_past", "The deadline must not be in the past.")
    cases = session.scalars(
        select(FollowUpCase)
        .where(FollowUpCase.id.in_(case_ids), FollowUpCase.project_id == project_id)
        .order_by(FollowUpCase.id)
    ).all()
    if len(cases) != len(case_ids):
        raise NotFound("unknown_case", "Unknown follow-up case.")
    project = session.get(Project, project_id)
    facts = load_facts(session, project_id, today, today, "zh_CN")
    sent = already_sent(session, case_ids)
    if sent and not confirm_resend:
        first = next(c for c in cases if c.id in sent)
        raise Invalid(
            "letter_already_sent",
            "A letter for %(unit)s was already sent on %(date)s. Confirm to send another.",
            unit=facts.units[first.unit_id].label,
            date=sent[first.id].isoformat(),
        )
    template = current_template(session, project_id)
    notice_days: dict[int, list[date]] = {}
    for unit_id, day in session.execute(
        select(Appointment.unit_id, Appointment.day)
        .where(Appointment.unit_id.in_([c.unit_id for c in cases]))
        .order_by(Appointment.day)
    ):
        notice_days.setdefault(unit_id, []).append(day)
    letters = []
    for case in cases:
        unit = facts.units[case.unit_id]
        days = notice_days.get(case.unit_id) or [case.opened_on]
        values = {
            "owner": unit.owner_name or "",
            "unit": unit.label,
            "project": project.name,
            "notice_dates": "、".join(_cn_date(d) for d in days),
            "deadline": _cn_date(deadline),
            "contact_name": project.contact_name or "",
            "contact_phone": project.contact_phone or "",
            "address": project.address or project.venue or "",
            "today": _cn_date(today),
        }
        letters.append(
            LetterData(
                title=fill(template.title, values),
                body=fill(template.body, values),
                reference=f"{project.code}-{case.id:05d} · {today.isoformat()}",
            )
        )
    pdf = letters_pdf(letters)
    stored = _store_pdf(session, instance_path, pdf, actor)
    rows = []
    for case in cases:
        row = UrgingLetter(
            case_id=case.id,
            template_id=template.id,
            sent_on=today,
            deadline=deadline,
            staff_id=actor.staff_id,
            file_id=stored.id,
            created_at=clock.now(),
        )
        session.add(row)
        session.add(
            CaseNote(
                case_id=case.id,
                text=f"催告函已发出，办理期限 {deadline.isoformat()}",
                staff_id=actor.staff_id,
                created_at=clock.now(),
            )
        )
        if case.status == "open":
            case.status = "in_progress"
        rows.append(row)
    audit.record(
        session,
        actor,
        "letters.send",
        "stored_file",
        stored.id,
        cases=case_ids,
        deadline=deadline.isoformat(),
        resend=bool(sent),
    )
    session.commit()
    return pdf, rows


def _cn_date(d: date) -> str:
    return f"{d.year}年{d.month}月{d.day}日"


def _store_pdf(session: Session, instance_path, data: bytes, actor: Actor) -> StoredFile:
    digest = hashlib.sha256(data).hexdigest()
    rel = Path("files") / "letters" / f"{digest}.pdf"
    path = Path(instance_path) / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    if not path.exists():
        tmp = path.with_suffix(".tmp")
        tmp.write_bytes(data)
        tmp.replace(path)
    row = StoredFile(
        kind="document",
        path=str(rel),
        mime="application/pdf",
        size=len(data),
        sha256=digest,
        staff_id=actor.staff_id,
    )
    session.add(row)
    session.flush()
    return row


def letter_file(session: Session, project_id: int, letter_id: int) -> StoredFile:
    letter = session.get(UrgingLetter, letter_id)
    case = session.get(FollowUpCase, letter.case_id) if letter else None
    if letter is None or case is None or case.project_id != project_id or letter.file_id is None:
        raise NotFound("unknown_letter", "Unknown letter.")
    return session.get(StoredFile, letter.file_id)
