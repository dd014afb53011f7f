"""foundation catalog

Revision ID: 0001
Revises: 
"""
from __future__ import annotations

from alembic import op
import sqlalchemy as sa


revision = '0001'
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('audit_events',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('actor', sa.String(length=320), nullable=False),
    sa.Column('role', sa.String(length=16), nullable=False),
    sa.Column('action', sa.String(length=64), nullable=False),
    sa.Column('entity_type', sa.String(length=64), nullable=False),
    sa.Column('entity_id', sa.String(length=255), nullable=False),
    sa.Column('before', sa.JSON(), nullable=True),
    sa.Column('after', sa.JSON(), nullable=True),
    sa.Column('request_id', sa.String(length=64), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_audit_events'))
    )
    with op.batch_alter_table('audit_events', schema=None) as batch_op:
        batch_op.create_index('ix_audit_events_actor', ['actor', 'id'], unique=False)
        batch_op.create_index('ix_audit_events_entity', ['entity_type', 'entity_id', 'id'], unique=False)

    op.create_table('catalog_epoch',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('epoch', sa.BigInteger(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_catalog_epoch'))
    )
    op.execute("INSERT INTO catalog_epoch (id, epoch) VALUES (1, 0)")
    op.create_table('logical_tables',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=255), nullable=False),
    sa.Column('description', sa.Text(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_logical_tables')),
    sa.UniqueConstraint('name', name=op.f('uq_logical_tables_name'))
    )
    op.create_table('system_config',
    sa.Column('key', sa.String(length=64), nullable=False),
    sa.Column('value', sa.Text(), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('key', name=op.f('pk_system_config'))
    )
    op.create_table('users',
    sa.Column('email', sa.String(length=320), nullable=False),
    sa.Column('role', sa.String(length=16), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('email', name=op.f('pk_users'))
    )
    op.create_table('promotions',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('table_id', sa.Integer(), nullable=False),
    sa.Column('promoted_version', sa.Integer(), nullable=False),
    sa.Column('previous_active_version', sa.Integer(), nullable=True),
    sa.Column('actor', sa.String(length=320), nullable=False),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('rolled_back_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['table_id'], ['logical_tables.id'], name=op.f('fk_promotions_table_id_logical_tables'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_promotions'))
    )
    with op.batch_alter_table('promotions', schema=None) as batch_op:
        batch_op.create_index('ix_promotions_table', ['table_id', 'at'], unique=False)

    op.create_table('state_history',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('table_id', sa.Integer(), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('from_state', sa.String(length=16), nullable=True),
    sa.Column('to_state', sa.String(length=16), nullable=False),
    sa.Column('transition', sa.String(length=32), nullable=False),
    sa.Column('actor', sa.String(length=320), nullable=False),
    sa.Column('reason', sa.Text(), nullable=True),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['table_id'], ['logical_tables.id'], name=op.f('fk_state_history_table_id_logical_tables'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_state_history'))
    )
    with op.batch_alter_table('state_history', schema=None) as batch_op:
        batch_op.create_index('ix_state_history_table', ['table_id', 'at'], unique=False)

    op.create_table('table_versions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('table_id', sa.Integer(), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('state', sa.String(length=16), nullable=False),
    sa.Column('physical_name', sa.String(length=255), nullable=False),
    sa.Column('columns', sa.JSON(), nullable=False),
    sa.Column('foreign_keys', sa.JSON(), nullable=False),
    sa.Column('row_count', sa.BigInteger(), nullable=True),
    sa.Column('owner', sa.String(length=320), nullable=True),
    sa.Column('supersedes', sa.Integer(), nullable=True),
    sa.Column('schema_version', sa.String(length=32), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('deprecated_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['table_id'], ['logical_tables.id'], name=op.f('fk_table_versions_table_id_logical_tables'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_table_versions')),
    sa.UniqueConstraint('table_id', 'version', name='uq_table_versions_table_version')
    )
    with op.batch_alter_table('table_versions', schema=None) as batch_op:
        batch_op.create_index('ix_table_versions_physical_name', ['physical_name'], unique=True)
        batch_op.create_index('uq_table_versions_one_active', ['table_id'], unique=True, sqlite_where=sa.text("state = 'ACTIVE'"), postgresql_where=sa.text("state = 'ACTIVE'"))

    _audit_log_append_only()


def downgrade() -> None:
    _drop_audit_triggers()
    with op.batch_alter_table('table_versions', schema=None) as batch_op:
        batch_op.drop_index('uq_table_versions_one_active', sqlite_where=sa.text("state = 'ACTIVE'"), postgresql_where=sa.text("state = 'ACTIVE'"))
        batch_op.drop_index('ix_table_versions_physical_name')

    op.drop_table('table_versions')
    with op.batch_alter_table('state_history', schema=None) as batch_op:
        batch_op.drop_index('ix_state_history_table')

    op.drop_table('state_history')
    with op.batch_alter_table('promotions', schema=None) as batch_op:
        batch_op.drop_index('ix_promotions_table')

    op.drop_table('promotions')
    op.drop_table('users')
    op.drop_table('system_config')
    op.drop_table('logical_tables')
    op.drop_table('catalog_epoch')
    with op.batch_alter_table('audit_events', schema=None) as batch_op:
        batch_op.drop_index('ix_audit_events_entity')
        batch_op.drop_index('ix_audit_events_actor')

    op.drop_table('audit_events')


def _audit_log_append_only() -> None:
    """The audit log refuses UPDATE and DELETE at the database level, on both engines."""
    if op.get_bind().dialect.name == "postgresql":
        op.execute(
            """
            CREATE FUNCTION spyne_audit_append_only() RETURNS trigger AS $$
            BEGIN
              RAISE EXCEPTION 'audit_events is append-only';
            END;
            $$ LANGUAGE plpgsql
            """
        )
        op.execute(
            "CREATE TRIGGER audit_events_append_only BEFORE UPDATE OR DELETE ON audit_events "
            "FOR EACH ROW EXECUTE FUNCTION spyne_audit_append_only()"
        )
    else:
        for event in ("UPDATE", "DELETE"):
            op.execute(
                f"CREATE TRIGGER audit_events_no_{event.lower()} BEFORE {event} ON audit_events "
                "BEGIN SELECT RAISE(ABORT, 'audit_events is append-only'); END"
            )


def _drop_audit_triggers() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER IF EXISTS audit_events_append_only ON audit_events")
        op.execute("DROP FUNCTION IF EXISTS spyne_audit_append_only()")
    else:
        op.execute("DROP TRIGGER IF EXISTS audit_events_no_update")
        op.execute("DROP TRIGGER IF EXISTS audit_events_no_delete")
