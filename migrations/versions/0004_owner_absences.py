"""co-owners marked as not present at signing (未到场 / 委托代签)

Revision ID: 0004_owner_absences
Revises: 0003_inspect
"""

import sqlalchemy as sa
from alembic import op

revision = "0004_owner_absences"
down_revision = "0003_inspect"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "owner_absences",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("visit_id", sa.Integer(), nullable=False),
        sa.Column("owner_id", sa.Integer(), nullable=False),
        sa.Column("absent", sa.Boolean(), nullable=False),
        sa.Column("reason", sa.String(length=20), nullable=True),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("staff_id", sa.Integer(), nullable=True),
        sa.Column("counter_id", sa.Integer(), nullable=True),
        sa.Column("supersedes_id", sa.Integer(), nullable=True),
        sa.Column("correction_reason", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["counter_id"], ["counters.id"], name=op.f("fk_owner_absences_counter_id_counters")
        ),
        sa.ForeignKeyConstraint(
            ["owner_id"], ["owners.id"], name=op.f("fk_owner_absences_owner_id_owners")
        ),
        sa.ForeignKeyConstraint(
            ["staff_id"], ["staff.id"], name=op.f("fk_owner_absences_staff_id_staff")
        ),
        sa.ForeignKeyConstraint(
            ["supersedes_id"],
            ["owner_absences.id"],
            name=op.f("fk_owner_absences_supersedes_id_owner_absences"),
        ),
        sa.ForeignKeyConstraint(
            ["visit_id"], ["visits.id"], name=op.f("fk_owner_absences_visit_id_visits")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_owner_absences")),
    )
    op.create_index(
        op.f("ix_owner_absences_visit_id"), "owner_absences", ["visit_id"], unique=False
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_owner_absences_visit_id"), table_name="owner_absences")
    op.drop_table("owner_absences")
