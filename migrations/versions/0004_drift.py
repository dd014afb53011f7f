"""drift reports and value baselines

Revision ID: 0004
Revises: 0001
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0001"
branch_labels = ("drift",)
depends_on = None

BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "drift_reports",
        sa.Column("id", BigId, autoincrement=True, nullable=False),
        sa.Column("table_name", sa.String(255), nullable=False),
        sa.Column("contract_id", sa.String(255), nullable=True),
        sa.Column("source", sa.String(16), nullable=False),
        sa.Column("from_version", sa.Integer(), nullable=True),
        sa.Column("to_version", sa.Integer(), nullable=True),
        sa.Column("from_schema_version", sa.String(32), nullable=True),
        sa.Column("to_schema_version", sa.String(32), nullable=True),
        sa.Column("changes", sa.JSON(), nullable=False),
        sa.Column("severity", sa.String(16), nullable=False),
        sa.Column("migration_guide", sa.Text(), nullable=False),
        sa.Column("version_rule", sa.Text(), nullable=True),
        sa.Column("fingerprint", sa.String(64), nullable=False),
        sa.Column("detected_by", sa.String(320), nullable=False),
        sa.Column("detected_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("resolved_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("resolved_by", sa.String(320), nullable=True),
        sa.Column("note", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_drift_reports")),
    )
    op.create_index("ix_drift_reports_table", "drift_reports", ["table_name", "id"])
    op.create_index("ix_drift_reports_contract", "drift_reports", ["contract_id", "id"])
    op.create_index("ix_drift_reports_fingerprint", "drift_reports", ["fingerprint"])
    op.create_table(
        "drift_baselines",
        sa.Column("id", BigId, autoincrement=True, nullable=False),
        sa.Column("table_name", sa.String(255), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("fingerprints", sa.JSON(), nullable=False),
        sa.Column("measured_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_drift_baselines")),
        sa.UniqueConstraint("table_name", "version", name="uq_drift_baselines_table_version"),
    )


def downgrade() -> None:
    op.drop_table("drift_baselines")
    op.drop_index("ix_drift_reports_fingerprint", "drift_reports")
    op.drop_index("ix_drift_reports_contract", "drift_reports")
    op.drop_index("ix_drift_reports_table", "drift_reports")
    op.drop_table("drift_reports")
