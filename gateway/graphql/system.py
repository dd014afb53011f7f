"""Who am I, the system mode, roles and the audit log."""

from __future__ import annotations

import strawberry

from gateway.domain import Capability
from gateway.graphql.directives import guarded, guarded_mutation
from gateway.graphql.enums import Role, SystemMode
from gateway.graphql.types.system import AuditConnection, AuditEvent, Me, User, Warehouse


@strawberry.type
class SystemQuery:
    @strawberry.field(description="The caller, their role and what it permits.")
    async def me(self, info: strawberry.Info) -> Me:
        ctx = info.context
        me = ctx.services.users.me(ctx.require_principal())
        return Me(email=me.email, role=me.role, permissions=list(me.permissions))

    @strawberry.field(description="READ_ONLY (the default) or INGESTION_READY.")
    async def system_mode(self, info: strawberry.Info) -> SystemMode:
        info.context.require_principal()
        return await info.context.services.users.mode()

    @strawberry.field(description="The configured warehouse and what it can do: introspection, "
                                  "read_only, row_cap, byte_cap, statement_timeout, cancel, estimate, "
                                  "column_stats, join_stats, ingestion, streamed_reads.")
    async def warehouse(self, info: strawberry.Info) -> Warehouse:
        info.context.require_principal()
        found = info.context.services.warehouse()
        return Warehouse(engine=found.engine, dialect=found.dialect, capabilities=found.names())

    @guarded(Capability.VIEW_AUDIT, description="The append-only audit log, newest first.")
    async def audit_log(self, info: strawberry.Info, actor: str | None = None, entity: str | None = None,
                        first: int = 50, after: str | None = None) -> AuditConnection:
        ctx = info.context
        page = await ctx.services.users.audit_log(ctx.require_principal(), actor=actor, entity=entity,
                                                  first=first, after=after)
        return AuditConnection(events=[AuditEvent.of(e) for e in page.events], end_cursor=page.end_cursor,
                               has_next_page=page.has_next_page)


@strawberry.type
class SystemMutation:
    @guarded_mutation(Capability.MANAGE_MODE, description="Switch between READ_ONLY and INGESTION_READY.")
    async def set_system_mode(self, info: strawberry.Info, mode: SystemMode) -> SystemMode:
        ctx = info.context
        return await ctx.services.users.set_mode(ctx.require_principal(), mode)

    @guarded_mutation(Capability.MANAGE_ROLES, description="Give a user a role.")
    async def set_user_role(self, info: strawberry.Info, email: str, role: Role) -> User:
        ctx = info.context
        return User.of(await ctx.services.users.set_role(ctx.require_principal(), email, role))
