"""GraphQL types of users, roles, the system mode and the audit log."""

from __future__ import annotations

from datetime import datetime

import strawberry
from strawberry.scalars import JSON

from gateway.graphql.enums import Role
from gateway.records import AuditEvent as AuditRecord
from gateway.records import UserRecord
from gateway.services.base import aware


@strawberry.type
class Me:
    email: str
    role: Role
    permissions: list[str]


@strawberry.type
class User:
    email: str
    role: Role
    updated_at: datetime

    @classmethod
    def of(cls, u: UserRecord) -> User:
        return cls(email=u.email, role=u.role, updated_at=aware(u.updated_at))


@strawberry.type
class AuditEvent:
    id: strawberry.ID
    at: datetime
    actor: str
    role: str
    action: str
    entity_type: str
    entity_id: str
    before: JSON | None
    after: JSON | None
    request_id: str | None

    @classmethod
    def of(cls, e: AuditRecord) -> AuditEvent:
        return cls(id=strawberry.ID(str(e.id)), at=aware(e.at), actor=e.actor, role=e.role,
                   action=e.action, entity_type=e.entity_type, entity_id=e.entity_id,
                   before=e.before, after=e.after, request_id=e.request_id)


@strawberry.type
class AuditConnection:
    events: list[AuditEvent]
    end_cursor: str | None
    has_next_page: bool


@strawberry.type(description="The configured warehouse: its engine, the sqlglot dialect it speaks, "
                             "and the capabilities of the adapter contract it has.")
class Warehouse:
    engine: str
    dialect: str
    capabilities: list[str]
