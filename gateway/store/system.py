"""Repositories of users, the system configuration, the catalog epoch and the audit log."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session

from gateway.domain import Role, SystemMode
from gateway.records import AuditEvent, NewAuditEvent, UserRecord
from gateway.store.models import AuditEventRow, CatalogEpochRow, SystemConfigRow, UserRow

MODE_KEY = "system_mode"


class UsersRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def get(self, email: str) -> UserRecord | None:
        row = await self._session.get(UserRow, email.lower())
        return _user(row) if row else None

    async def set_role(self, email: str, role: Role, at: datetime) -> tuple[UserRecord | None, UserRecord]:
        row = await self._session.get(UserRow, email.lower())
        before = _user(row) if row else None
        if row is None:
            row = UserRow(email=email.lower(), role=role.value, created_at=at, updated_at=at)
            self._session.add(row)
        else:
            row.role = role.value
            row.updated_at = at
        await self._session.flush()
        return before, _user(row)

    async def list(self) -> list[UserRecord]:
        rows = (await self._session.scalars(select(UserRow).order_by(UserRow.email))).all()
        return [_user(r) for r in rows]


_EPOCH = select(CatalogEpochRow.epoch).where(CatalogEpochRow.id == 1)


def read_epoch(session: Session) -> int:
    """The catalog epoch, for :meth:`UnitOfWorkFactory.transaction` (the request path's read)."""
    return int(session.connection().scalar(_EPOCH) or 0)


def _user(row: UserRow) -> UserRecord:
    return UserRecord(email=row.email, role=Role(row.role), created_at=row.created_at,
                      updated_at=row.updated_at)


class SystemRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session
        self.epoch_bumped = False

    async def mode(self) -> SystemMode | None:
        row = await self._session.get(SystemConfigRow, MODE_KEY, populate_existing=True)
        return SystemMode(row.value) if row else None

    async def set_mode(self, mode: SystemMode, at: datetime) -> None:
        row = await self._session.get(SystemConfigRow, MODE_KEY)
        if row is None:
            self._session.add(SystemConfigRow(key=MODE_KEY, value=mode.value, updated_at=at))
        else:
            row.value = mode.value
            row.updated_at = at
        await self._session.flush()

    async def epoch(self) -> int:
        return int(await self._session.scalar(_EPOCH) or 0)

    async def bump_epoch(self) -> None:
        self.epoch_bumped = True
        await self._session.execute(
            update(CatalogEpochRow).where(CatalogEpochRow.id == 1)
            .values(epoch=CatalogEpochRow.epoch + 1)
            .execution_options(synchronize_session=False)
        )


class AuditRepository:
    """Append-only: there is no update or delete here, and the database refuses them too."""

    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def append(self, event: NewAuditEvent, at: datetime) -> None:
        self._session.add(
            AuditEventRow(at=at, actor=event.actor, role=event.role, action=event.action,
                          entity_type=event.entity_type, entity_id=event.entity_id,
                          before=event.before, after=event.after, request_id=event.request_id)
        )
        await self._session.flush()

    async def list(self, *, actor: str | None, entity: str | None, after_id: int | None,
                   limit: int) -> list[AuditEvent]:
        query = select(AuditEventRow).order_by(AuditEventRow.id.desc()).limit(limit)
        if actor:
            query = query.where(AuditEventRow.actor == actor.lower())
        if entity:
            entity_type, _, entity_id = entity.partition(":")
            query = query.where(AuditEventRow.entity_type == entity_type)
            if entity_id:
                query = query.where(AuditEventRow.entity_id == entity_id)
        if after_id is not None:
            query = query.where(AuditEventRow.id < after_id)
        rows = (await self._session.scalars(query)).all()
        return [
            AuditEvent(id=r.id, at=r.at, actor=r.actor, role=r.role, action=r.action,
                       entity_type=r.entity_type, entity_id=r.entity_id, before=r.before,
                       after=r.after, request_id=r.request_id)
            for r in rows
        ]
