"""Loading the demo catalog: the sample warehouse's tables, one in each lifecycle state.

Seeding writes versions directly in their intended states (there is no history to replay);
every version is introspected from the warehouse (with its column statistics, for estimates), and
the load is one audited transaction.
"""

from __future__ import annotations

from collections.abc import Callable

from gateway.domain import Role, TableState
from gateway.records import Principal, StateChange, VersionRecord
from gateway.services.base import ServiceDeps, audit
from gateway.services.statistics import measure_statistics
from gateway.warehouse.demo_data import DemoSummary

SEED_PRINCIPAL = Principal(email="system:demo", role=Role.ADMIN)


async def load_demo_catalog(deps: ServiceDeps, summary: DemoSummary,
                            progress: Callable[[str], None] | None = None) -> int:
    """Register every demo table version; tables already in the catalog are left alone."""
    say = progress or (lambda _m: None)
    loaded = 0
    now = deps.clock()
    async with deps.uow() as uow:
        for table in summary.tables:
            if await uow.tables.get(table.name) is not None:
                say(f"  {table.name}: already in the catalog, left as it is")
                continue
            await uow.tables.create(table.name, table.description, now)
            ordered = sorted(table.versions, key=lambda v: v.version)
            for previous, demo_version in zip([None, *ordered], ordered, strict=False):
                shape = await deps.warehouse.introspect(demo_version.physical_name)
                statistics = await measure_statistics(deps.warehouse, demo_version.physical_name, shape.columns,
                                                      shape.row_count, now)
                await uow.tables.add_version(VersionRecord(
                    table=table.name, version=demo_version.version, state=demo_version.state,
                    physical_name=demo_version.physical_name, columns=shape.columns,
                    row_count=shape.row_count, owner=SEED_PRINCIPAL.email,
                    supersedes=previous.version if previous else None,
                    schema_version=f"{demo_version.version}.0", created_at=now, updated_at=now,
                    deprecated_at=now if demo_version.state is TableState.DEPRECATED else None,
                    foreign_keys=shape.foreign_keys, statistics=statistics,
                ))
                await uow.tables.record_state_change(StateChange(
                    table=table.name, version=demo_version.version, from_state=None,
                    to_state=demo_version.state, transition="SEED", actor=SEED_PRINCIPAL.email,
                    reason="demo catalog", at=now))
                say(f"  {table.name} v{demo_version.version}: {demo_version.state.value} "
                    f"({shape.row_count:,} rows)")
                loaded += 1
        await audit(uow, SEED_PRINCIPAL, "loadDemo", "catalog", "demo", now,
                    after={"versions": loaded})
        await uow.system.bump_epoch()
        await uow.commit()
    return loaded
