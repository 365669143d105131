"""After the day (交付后续): a case for every unit not handed over, its notes, urging letters."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Date, DateTime, ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .base import Base, CreatedAt


class FollowUpCase(CreatedAt, Base):
    """A unit that was not handed over: refused, no-show, unfinished or never appointed."""

    __tablename__ = "follow_up_cases"
    id: Mapped[int] = mapped_column(primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id"), index=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id"), index=True)
    visit_id: Mapped[int | None] = mapped_column(ForeignKey("visits.id"))
    kind: Mapped[str] = mapped_column(String(20))  # refused | no_show | unfinished | not_appointed
    reason: Mapped[str | None] = mapped_column(Text)
    department: Mapped[str | None] = mapped_column(String(40))  # Department.code owning it
    status: Mapped[str] = mapped_column(String(20), default="open")  # open | in_progress | closed
    assigned_to_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id"))
    opened_on: Mapped[date] = mapped_column(Date)
    due_on: Mapped[date | None] = mapped_column(Date)
    closed_at: Mapped[datetime | None] = mapped_column(DateTime)
    closed_by_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id"))

    notes: Mapped[list[CaseNote]] = relationship(order_by="CaseNote.id")
    letters: Mapped[list[UrgingLetter]] = relationship(order_by="UrgingLetter.id")


class CaseNote(CreatedAt, Base):
    __tablename__ = "case_notes"
    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("follow_up_cases.id"), index=True)
    text: Mapped[str] = mapped_column(Text)
    staff_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id"))


class LetterTemplate(CreatedAt, Base):
    """The urging letter (催告函) text with placeholders; an edit is a new row (newest wins)."""

    __tablename__ = "letter_templates"
    id: Mapped[int] = mapped_column(primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id"), index=True)
    title: Mapped[str] = mapped_column(String(100))
    body: Mapped[str] = mapped_column(Text)
    staff_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id"))


class UrgingLetter(CreatedAt, Base):
    """A letter sent for a case: recorded so it is never sent twice by mistake."""

    __tablename__ = "urging_letters"
    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("follow_up_cases.id"), index=True)
    template_id: Mapped[int | None] = mapped_column(ForeignKey("letter_templates.id"))
    sent_on: Mapped[date] = mapped_column(Date)
    deadline: Mapped[date | None] = mapped_column(Date)
    staff_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id"))
    file_id: Mapped[int | None] = mapped_column(ForeignKey("stored_files.id"))
