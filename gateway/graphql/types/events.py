"""GraphQL types of the `events` subscription."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

import strawberry
from strawberry.scalars import JSON

from gateway.domain import TableState
from gateway.services.events import Delivery, EventKind

strawberry.enum(EventKind, name="EventKind",
                description="What happened: lifecycle transitions, drift, ingestion runs, backfill progress.")


@strawberry.type(description="One live event, as the caller's role may see it.")
class Event:
    id: str = strawberry.field(description="Increasing, and the same on every worker (ids come from the catalog's events table).")
    kind: EventKind
    at: datetime
    message: str
    table: str | None
    contract_id: str | None
    actor: str | None
    states: list[TableState] = strawberry.field(description="Every table state the event mentions.")
    details: JSON = strawberry.field(description="Kind-specific details (changes, counts, severity…).")
    missed_before: int = strawberry.field(
        description="Events dropped for this subscriber just before this one (its queue was full); "
                    "when not 0, refetch what you show.")

    @classmethod
    def of(cls, delivery: Delivery) -> Event:
        e = delivery.event
        return cls(id=str(e.id), kind=e.kind, at=e.at, message=e.message, table=e.table,
                   contract_id=e.contract_id, actor=e.actor,
                   states=sorted(e.states, key=lambda s: s.value), details=_json(e.details),
                   missed_before=delivery.missed_before)


def _json(details: Mapping[str, Any]) -> JSON:
    return JSON(dict(details))
