"""What the database itself guarantees: one ACTIVE per table, an append-only audit log, and
a clean CONFLICT for the loser of two concurrent promotions."""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.exc import DBAPIError, IntegrityError

from gateway.domain import TableState
from gateway.errors import Conflict
from gateway.records import VersionRecord
from gateway.store.engine import sync_url
from tests.support.harness import Gateway, principal


async def _add_shadow(gateway: Gateway, version: int) -> None:
    deps = gateway.services.deps
    now = deps.clock()
    async with deps.uow() as uow:
        await uow.tables.add_version(VersionRecord(
            table="orders", version=version, state=TableState.SHADOW,
            physical_name=f"spyne_shadow__orders__v{version}", columns=(), row_count=0, owner="t",
            supersedes=2, schema_version=f"{version}.0", created_at=now, updated_at=now, deprecated_at=None))
        await uow.commit()


def test_database_refuses_two_active_versions(gateway: Gateway) -> None:
    engine = create_engine(sync_url(gateway.settings.catalog_url))
    with pytest.raises(IntegrityError), engine.begin() as conn:
        conn.execute(text("UPDATE table_versions SET state = 'ACTIVE' WHERE physical_name = 'orders__v1'"))
    engine.dispose()


def test_audit_log_is_append_only(gateway: Gateway) -> None:
    engine = create_engine(sync_url(gateway.settings.catalog_url))
    with engine.begin() as conn:
        assert conn.execute(text("SELECT COUNT(*) FROM audit_events")).scalar_one() >= 1
    for statement in ("UPDATE audit_events SET actor = 'x'", "DELETE FROM audit_events"):
        with pytest.raises(DBAPIError, match="append-only"), engine.begin() as conn:
            conn.execute(text(statement))
    engine.dispose()


async def test_concurrent_promotions_leave_one_active(gateway: Gateway) -> None:
    await _add_shadow(gateway, 3)
    await _add_shadow(gateway, 4)
    admin = principal("ADMIN")
    lifecycle = gateway.services.lifecycle
    # Both promotions read the catalog before either writes: they meet at the promotion gate
    # (the seam the drift check uses), so the race is real on every run, not left to timing.
    both_read = asyncio.Barrier(2)

    async def meet(*_args: object) -> tuple[str, ...]:
        await both_read.wait()
        return ()

    lifecycle.promotion_gate = meet
    results = await asyncio.gather(
        lifecycle.promote(admin, "orders", 3), lifecycle.promote(admin, "orders", 4),
        return_exceptions=True)
    conflicts = [r for r in results if isinstance(r, Conflict)]
    successes = [r for r in results if not isinstance(r, BaseException)]
    unexpected = [r for r in results if isinstance(r, BaseException) and not isinstance(r, Conflict)]
    assert not unexpected, unexpected
    async with gateway.services.deps.uow() as uow:
        record = await uow.tables.get("orders")
    assert record is not None
    assert len(record.in_state(TableState.ACTIVE)) == 1
    assert len(successes) == 1 and len(conflicts) == 1
