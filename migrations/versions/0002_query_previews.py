"""query previews and executions

Revision ID: 0002
Revises: 0001
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = ("queries",)
depends_on = None

BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "query_previews",
        sa.Column("id", sa.String(36), nullable=False),
        sa.Column("author", sa.String(320), nullable=False),
        sa.Column("author_role", sa.String(16), nullable=False),
        sa.Column("original_sql", sa.Text(), nullable=False),
        sa.Column("dialect", sa.String(32), nullable=False),
        sa.Column("pins", sa.JSON(), nullable=False),
        sa.Column("plan", sa.JSON(), nullable=False),
        sa.Column("catalog_epoch", sa.BigInteger(), nullable=False),
        sa.Column("parent_id", sa.String(36), nullable=True),
        sa.Column("skip_reason", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_query_previews")),
    )
    op.create_index("ix_query_previews_author", "query_previews", ["author", "created_at"])
    op.create_table(
        "query_executions",
        sa.Column("id", BigId, autoincrement=True, nullable=False),
        sa.Column("preview_id", sa.String(36), nullable=False),
        sa.Column("actor", sa.String(320), nullable=False),
        sa.Column("role", sa.String(16), nullable=False),
        sa.Column("sql", sa.Text(), nullable=False),
        sa.Column("status", sa.String(32), nullable=False),
        sa.Column("error_code", sa.String(32), nullable=True),
        sa.Column("row_count", sa.Integer(), nullable=True),
        sa.Column("elapsed_ms", sa.Float(), nullable=True),
        sa.Column("tables", sa.JSON(), nullable=False),
        sa.Column("joins", sa.JSON(), nullable=False),
        sa.Column("overrides", sa.JSON(), nullable=False),
        sa.Column("skip_reason", sa.Text(), nullable=True),
        sa.Column("request_id", sa.String(64), nullable=True),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_query_executions")),
    )
    op.create_index("ix_query_executions_actor", "query_executions", ["actor", "at"])
    op.create_index("ix_query_executions_at", "query_executions", ["at"])


def downgrade() -> None:
    op.drop_index("ix_query_executions_at", "query_executions")
    op.drop_index("ix_query_executions_actor", "query_executions")
    op.drop_table("query_executions")
    op.drop_index("ix_query_previews_author", "query_previews")
    op.drop_table("query_previews")
