"""What every service receives from the composition root."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime

from gateway.records import NewAuditEvent, Principal
from gateway.services.events import EventBus
from gateway.store.unit_of_work import UnitOfWork, UnitOfWorkFactory
from gateway.warehouse.contract import Warehouse


def utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass
class ServiceDeps:
    uow: UnitOfWorkFactory
    warehouse: Warehouse
    clock: Callable[[], datetime] = utc_now
    # Live events for the `events` subscription: publish after commit (gateway.services.events).
    events: EventBus = field(default_factory=EventBus)


async def audit(uow: UnitOfWork, principal: Principal, action: str, entity_type: str, entity_id: str,
                at: datetime, before: object = None, after: object = None) -> None:
    """Write one audit event inside the caller's unit of work, so it commits with the change."""
    await uow.audit.append(
        NewAuditEvent(actor=principal.email, role=principal.role.value, action=action,
                      entity_type=entity_type, entity_id=entity_id, before=before, after=after,
                      request_id=principal.request_id),
        at,
    )


def aware(value: datetime) -> datetime:
    """SQLite hands back naive datetimes for timezone columns; they were written in UTC."""
    return value if value.tzinfo else value.replace(tzinfo=UTC)
