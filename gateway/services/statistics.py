"""A version's column statistics, measured for the planner's estimates where the warehouse can.

Statistics are advice. A warehouse that does not declare ``column_stats``, or a measurement that
fails or runs past the statement timeout, leaves the version without them (its GROUP BY estimates
fall back to a tenth of the rows, and the preview says so): registering or refreshing a table
never fails for their sake. How they are measured, exactly or from a sample, is
:func:`gateway.warehouse.column_stats.measure_distinct`'s rule.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from gateway.errors import GatewayError
from gateway.records import ColumnInfo, ColumnStatistics
from gateway.warehouse.column_stats import measure_distinct
from gateway.warehouse.contract import Capability, Warehouse

log = logging.getLogger("spyne.statistics")


async def measure_statistics(warehouse: Warehouse, physical_name: str, columns: Sequence[ColumnInfo],
                             row_count: int, at: datetime) -> ColumnStatistics | None:
    """The version's distinct counts, or None where the warehouse cannot measure them."""
    if not warehouse.capabilities.has(Capability.COLUMN_STATS):
        return None
    try:
        found = await measure_distinct(warehouse, physical_name, [c.name for c in columns], row_count)
    except GatewayError as exc:
        log.warning("column statistics of %s were not measured: %s (%s)", physical_name, exc.code, exc.message)
        return None
    return ColumnStatistics(distinct=tuple(found.counts.items()), method=found.method,
                            rows_read=found.rows_read, measured_at=at)


def audited(statistics: ColumnStatistics | None) -> dict[str, Any] | None:
    """What an audit event keeps of a measurement."""
    if statistics is None:
        return None
    return {"method": statistics.method, "rowsRead": statistics.rows_read, "distinct": dict(statistics.distinct)}
