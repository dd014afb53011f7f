"""joins: candidates, rejections, accepted join versions

Revision ID: 0005
Revises: 0001
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0001"
branch_labels = ("joins",)
depends_on = None

BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "join_candidates",
        sa.Column("id", sa.String(40), nullable=False),
        sa.Column("left_table", sa.String(255), nullable=False),
        sa.Column("left_columns", sa.JSON(), nullable=False),
        sa.Column("right_table", sa.String(255), nullable=False),
        sa.Column("right_columns", sa.JSON(), nullable=False),
        sa.Column("condition", sa.Text(), nullable=False),
        sa.Column("join_type", sa.String(16), nullable=False),
        sa.Column("confidence", sa.Float(), nullable=False),
        sa.Column("risk_level", sa.String(8), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("assumptions", sa.JSON(), nullable=False),
        sa.Column("evidence", sa.JSON(), nullable=False),
        sa.Column("validation_stats", sa.JSON(), nullable=True),
        sa.Column("fingerprint", sa.String(64), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("first_seen_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_seen_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_join_candidates")),
    )
    op.create_index("ix_join_candidates_left_table", "join_candidates", ["left_table"])
    op.create_index("ix_join_candidates_right_table", "join_candidates", ["right_table"])
    op.create_table(
        "join_rejections",
        sa.Column("id", BigId, autoincrement=True, nullable=False),
        sa.Column("candidate_id", sa.String(40), nullable=False),
        sa.Column("category", sa.String(32), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("fingerprint", sa.String(64), nullable=False),
        sa.Column("actor", sa.String(320), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["candidate_id"], ["join_candidates.id"],
                                name=op.f("fk_join_rejections_candidate_id_join_candidates"), ondelete="RESTRICT"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_join_rejections")),
    )
    op.create_index("ix_join_rejections_candidate", "join_rejections", ["candidate_id", "id"])
    op.create_table(
        "accepted_joins",
        sa.Column("id", BigId, autoincrement=True, nullable=False),
        sa.Column("join_id", sa.String(40), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("left_table", sa.String(255), nullable=False),
        sa.Column("left_columns", sa.JSON(), nullable=False),
        sa.Column("right_table", sa.String(255), nullable=False),
        sa.Column("right_columns", sa.JSON(), nullable=False),
        sa.Column("condition", sa.Text(), nullable=False),
        sa.Column("join_type", sa.String(16), nullable=False),
        sa.Column("candidate_id", sa.String(40), nullable=True),
        sa.Column("accepted_by", sa.String(320), nullable=False),
        sa.Column("accepted_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("rationale", sa.Text(), nullable=False),
        sa.Column("validation_stats", sa.JSON(), nullable=True),
        sa.Column("supersedes", sa.Integer(), nullable=True),
        sa.Column("deprecated_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("deprecated_by", sa.String(320), nullable=True),
        sa.Column("deprecation_reason", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_accepted_joins")),
        sa.UniqueConstraint("join_id", "version", name="uq_accepted_joins_join_version"),
    )
    op.create_index("uq_accepted_joins_one_active", "accepted_joins", ["join_id"], unique=True,
                    sqlite_where=sa.text("state = 'ACTIVE'"), postgresql_where=sa.text("state = 'ACTIVE'"))
    op.create_index("ix_accepted_joins_left_table", "accepted_joins", ["left_table"])
    op.create_index("ix_accepted_joins_right_table", "accepted_joins", ["right_table"])


def downgrade() -> None:
    op.drop_table("accepted_joins")
    op.drop_table("join_rejections")
    op.drop_table("join_candidates")
