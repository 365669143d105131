"""Inspection uploads that arrived after their visit changed (cancelled, taken over, moved to
another counter): the evidence rows are stored anyway and one of these flags each of them, so
a supervisor can resolve it. Nothing captured on a tablet is thrown away."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import DateTime, ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from .base import Base, CreatedAt


class InspectionSyncIssue(CreatedAt, Base):
    __tablename__ = "inspection_sync_issues"
    id: Mapped[int] = mapped_column(primary_key=True)
    visit_id: Mapped[int] = mapped_column(ForeignKey("visits.id"), index=True)
    counter_id: Mapped[int | None] = mapped_column(ForeignKey("counters.id"))
    staff_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id"))
    # What was uploaded: check | defect | known_issue | result, and the row it created.
    entity: Mapped[str] = mapped_column(String(20))
    entity_id: Mapped[int]
    client_id: Mapped[str] = mapped_column(String(40), unique=True)
    # Why it needs a look: visit_not_active | taken_over | other_counter | step_not_open
    code: Mapped[str] = mapped_column(String(30))
    resolved_at: Mapped[datetime | None] = mapped_column(DateTime)
    resolved_by_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id"))
    resolution: Mapped[str | None] = mapped_column(Text)
