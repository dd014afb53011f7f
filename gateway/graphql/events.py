"""The `events` subscription (graphql-transport-ws): live changes, filtered by the caller's role."""

from __future__ import annotations

from collections.abc import AsyncGenerator

import strawberry

from gateway.graphql.types.events import Event
from gateway.services.events import EventKind


@strawberry.type
class EventsSubscription:
    @strawberry.subscription(description=(
        "Promotions, deprecations, restores, rollbacks, drift detections, ingestion runs and "
        "backfill progress as they happen. Authenticate in connection_init with "
        '{"Authorization": "Bearer <token>"}. SHADOW versions and ingestion reach ENGINEER and above only.'))
    async def events(self, info: strawberry.Info,
                     kinds: list[EventKind] | None = None) -> AsyncGenerator[Event, None]:
        ctx = info.context
        async with ctx.services.events.subscribe(ctx.require_principal(), kinds) as subscription:
            async for delivery in subscription:
                yield Event.of(delivery)
