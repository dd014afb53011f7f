"""ingestion: contracts, contract versions, ingestion runs, replay/backfill operations

Revision ID: 0003
Revises: 0001
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0001"
branch_labels = ("ingestion",)
depends_on = None

BIG_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "contracts",
        sa.Column("id", sa.String(255), nullable=False),
        sa.Column("table_name", sa.String(255), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("newest_event_time", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_ingested_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_contracts")),
        sa.UniqueConstraint("table_name", name=op.f("uq_contracts_table_name")),
    )
    op.create_table(
        "contract_versions",
        sa.Column("id", BIG_ID, autoincrement=True, nullable=False),
        sa.Column("contract_id", sa.String(255), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("columns", sa.JSON(), nullable=False),
        sa.Column("semantics", sa.JSON(), nullable=False),
        sa.Column("sla", sa.JSON(), nullable=True),
        sa.Column("warnings", sa.JSON(), nullable=False),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("created_by", sa.String(320), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_contract_versions")),
        sa.UniqueConstraint("contract_id", "version", name="uq_contract_versions_contract_version"),
    )
    op.create_table(
        "ingestion_runs",
        sa.Column("id", sa.String(64), nullable=False),
        sa.Column("contract_id", sa.String(255), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("source", sa.String(32), nullable=False),
        sa.Column("actor", sa.String(320), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("accepted", sa.BigInteger(), nullable=False),
        sa.Column("duplicates", sa.BigInteger(), nullable=False),
        sa.Column("quarantined", sa.BigInteger(), nullable=False),
        sa.Column("errors", sa.JSON(), nullable=False),
        sa.Column("operation_id", sa.String(64), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ingestion_runs")),
    )
    with op.batch_alter_table("ingestion_runs", schema=None) as batch_op:
        batch_op.create_index("ix_ingestion_runs_contract", ["contract_id", "started_at"], unique=False)
    op.create_table(
        "ingestion_operations",
        sa.Column("id", sa.String(64), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("contract_id", sa.String(255), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("params", sa.JSON(), nullable=False),
        sa.Column("fingerprint", sa.String(128), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("estimated_rows", sa.BigInteger(), nullable=False),
        sa.Column("estimated_duplicates", sa.BigInteger(), nullable=False),
        sa.Column("created_by", sa.String(320), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("confirmed_by", sa.String(320), nullable=True),
        sa.Column("confirmed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("run_id", sa.String(64), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ingestion_operations")),
    )
    with op.batch_alter_table("ingestion_operations", schema=None) as batch_op:
        batch_op.create_index("ix_ingestion_operations_contract", ["contract_id", "created_at"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("ingestion_operations", schema=None) as batch_op:
        batch_op.drop_index("ix_ingestion_operations_contract")
    op.drop_table("ingestion_operations")
    with op.batch_alter_table("ingestion_runs", schema=None) as batch_op:
        batch_op.drop_index("ix_ingestion_runs_contract")
    op.drop_table("ingestion_runs")
    op.drop_table("contract_versions")
    op.drop_table("contracts")
