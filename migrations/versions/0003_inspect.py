"""inspection uploads to resolve (visit changed while the tablet was offline)

Revision ID: 0003_inspect
Revises: 0002
"""

import sqlalchemy as sa
from alembic import op

revision = "0003_inspect"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "inspection_sync_issues",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("visit_id", sa.Integer(), nullable=False),
        sa.Column("counter_id", sa.Integer(), nullable=True),
        sa.Column("staff_id", sa.Integer(), nullable=True),
        sa.Column("entity", sa.String(length=20), nullable=False),
        sa.Column("entity_id", sa.Integer(), nullable=False),
        sa.Column("client_id", sa.String(length=40), nullable=False),
        sa.Column("code", sa.String(length=30), nullable=False),
        sa.Column("resolved_at", sa.DateTime(), nullable=True),
        sa.Column("resolved_by_id", sa.Integer(), nullable=True),
        sa.Column("resolution", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["counter_id"],
            ["counters.id"],
            name=op.f("fk_inspection_sync_issues_counter_id_counters"),
        ),
        sa.ForeignKeyConstraint(
            ["resolved_by_id"],
            ["staff.id"],
            name=op.f("fk_inspection_sync_issues_resolved_by_id_staff"),
        ),
        sa.ForeignKeyConstraint(
            ["staff_id"], ["staff.id"], name=op.f("fk_inspection_sync_issues_staff_id_staff")
        ),
        sa.ForeignKeyConstraint(
            ["visit_id"], ["visits.id"], name=op.f("fk_inspection_sync_issues_visit_id_visits")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_inspection_sync_issues")),
        sa.UniqueConstraint("client_id", name=op.f("uq_inspection_sync_issues_client_id")),
    )
    op.create_index(
        op.f("ix_inspection_sync_issues_visit_id"),
        "inspection_sync_issues",
        ["visit_id"],
        unique=False,
    )


def downgrade() -> None:
    op.drop_index(
        op.f("ix_inspection_sync_issues_visit_id"), table_name="inspection_sync_issues"
    )
    op.drop_table("inspection_sync_issues")
