"""the visit's day on each of its steps, in the queue index

Revision ID: 0005_visit_steps_day
Revises: 0004_owner_absences

The queue's hot statements (call-next's claim, waiting counts, people ahead) filtered the day
through a join to visits; without planner statistics on the day's rows PostgreSQL ran that
join as a nested loop over the day's visits, quadratic in the queue. With the day on the step
row and in the queue index they read one index range and join nothing.
"""

import sqlalchemy as sa
from alembic import op

revision = "0005_visit_steps_day"
down_revision = "0004_owner_absences"
branch_labels = None
depends_on = None

_OLD = ["state", "step_id", "priority_rank", "queue_at", "seq"]
_NEW = ["state", "step_id", "day", "priority_rank", "queue_at", "seq"]


def upgrade() -> None:
    with op.batch_alter_table("visit_steps", schema=None) as batch_op:
        batch_op.add_column(sa.Column("day", sa.Date(), nullable=True))
    # A visit never changes day.
    op.execute(
        "UPDATE visit_steps SET day = (SELECT day FROM visits WHERE visits.id = visit_steps.visit_id)"
    )
    with op.batch_alter_table("visit_steps", schema=None) as batch_op:
        batch_op.alter_column("day", existing_type=sa.Date(), nullable=False)
        batch_op.drop_index("ix_visit_steps_queue")
        batch_op.create_index("ix_visit_steps_queue", _NEW, unique=False)


def downgrade() -> None:
    with op.batch_alter_table("visit_steps", schema=None) as batch_op:
        batch_op.drop_index("ix_visit_steps_queue")
        batch_op.create_index("ix_visit_steps_queue", _OLD, unique=False)
        batch_op.drop_column("day")
