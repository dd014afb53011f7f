"""table versions: measured column statistics (distinct counts) for the planner's GROUP BY estimates

Revision ID: 0008
Revises: 0001
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("table_versions", schema=None) as batch_op:
        # {"method": "exact"|"sampled", "rows_read": n, "measured_at": iso, "distinct": {column: n}};
        # NULL where the version was never measured (before this migration, or no column_stats).
        batch_op.add_column(sa.Column("column_stats", sa.JSON(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("table_versions", schema=None) as batch_op:
        batch_op.drop_column("column_stats")
