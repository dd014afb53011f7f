"""GraphQL types of drift: reports, changes, compatibility checks and contract diffs."""

from __future__ import annotations

from datetime import datetime

import strawberry

from gateway.drift_records import DriftReportRecord, DriftSource, StoredChange
from gateway.services.base import aware
from gateway.services.drift import Compatibility, ContractDiff
from gateway.services.drift_measure import stored
from planner.drift import ChangeType, ColumnSpec, DriftSeverity, SchemaChange, SchemaDiff

# The engine's own enums, registered in place under API.md's names: no conversion between layers.
strawberry.enum(DriftSeverity, name="DriftSeverity")
strawberry.enum(ChangeType, name="ChangeType")
strawberry.enum(DriftSource, name="DriftSource",
                description="Where a new schema came from: REFRESH, CONTRACT or PROMOTION.")


@strawberry.type(name="SchemaChange", description="One schema change and what it means for a query written against the old schema.")
class SchemaChangeType:
    type: ChangeType
    column: str = strawberry.field(description="The name a query against the old schema used.")
    old_column: str | None
    new_column: str | None
    old_type: str | None
    new_type: str | None
    severity: DriftSeverity
    reason: str
    confidence: float | None = strawberry.field(
        description="For a RENAME (and a REMOVE that had a weaker rename candidate): how sure.")
    undecided: bool = strawberry.field(
        description="The data could not be measured, so the safe severity (BREAKING) was chosen.")
    against_version: str | None = strawberry.field(
        description="The earlier version this change was measured against, when several were.")

    @classmethod
    def of(cls, c: StoredChange) -> SchemaChangeType:
        return cls(type=ChangeType(c.type), column=c.column, old_column=c.old_column,
                   new_column=c.new_column, old_type=c.old_type, new_type=c.new_type,
                   severity=DriftSeverity(c.severity), reason=c.reason, confidence=c.confidence,
                   undecided=c.undecided, against_version=c.against_version)

    @classmethod
    def of_change(cls, c: SchemaChange) -> SchemaChangeType:
        return cls.of(stored(c))


@strawberry.type
class DriftReport:
    id: strawberry.ID | None = strawberry.field(
        description="Null when nothing changed: such a report is returned, never stored.")
    table: str
    contract_id: str | None
    source: DriftSource
    from_version: int | None
    to_version: int | None
    from_schema_version: str | None
    to_schema_version: str | None
    changes: list[SchemaChangeType]
    severity: DriftSeverity
    migration_guide: str
    version_rule: str | None
    detected_by: str
    detected_at: datetime
    resolved: bool
    resolved_at: datetime | None
    resolved_by: str | None
    note: str | None

    @classmethod
    def of(cls, r: DriftReportRecord) -> DriftReport:
        return cls(
            id=strawberry.ID(str(r.id)) if r.id is not None else None, table=r.table,
            contract_id=r.contract_id, source=r.source, from_version=r.from_version,
            to_version=r.to_version, from_schema_version=r.from_schema_version,
            to_schema_version=r.to_schema_version, changes=[SchemaChangeType.of(c) for c in r.changes],
            severity=DriftSeverity(r.severity), migration_guide=r.migration_guide,
            version_rule=r.version_rule, detected_by=r.detected_by, detected_at=aware(r.detected_at),
            resolved=r.resolved_at is not None,
            resolved_at=aware(r.resolved_at) if r.resolved_at else None, resolved_by=r.resolved_by,
            note=r.note)


@strawberry.type
class VersionVerdict:
    version: str
    severity: DriftSeverity


def _changes(d: SchemaDiff) -> list[SchemaChangeType]:
    return [SchemaChangeType.of_change(c) for c in d.changes]


@strawberry.type(description="A dry run: what a proposed schema would change, storing nothing.")
class CompatibilityResult:
    compatible: bool = strawberry.field(description="False when any change is BREAKING.")
    severity: DriftSeverity
    changes: list[SchemaChangeType]
    versions: list[VersionVerdict] = strawberry.field(
        description="Each version still in use that was checked, with the worst severity against it.")
    migration_guide: str
    next_version: str | None
    version_rule: str | None

    @classmethod
    def of(cls, c: Compatibility) -> CompatibilityResult:
        return cls(compatible=c.compatible, severity=c.diff.severity, changes=_changes(c.diff),
                   versions=[VersionVerdict(version=v, severity=s) for v, s in c.diff.versions],
                   migration_guide=c.migration_guide, next_version=c.next_version,
                   version_rule=c.version_rule)


@strawberry.type
class ContractDiffResult:
    contract_id: str
    from_version: int
    to_version: int
    changes: list[SchemaChangeType]
    severity: DriftSeverity
    migration_guide: str
    next_version: str = strawberry.field(description="The schema version the bump rule gives.")
    version_rule: str

    @classmethod
    def of(cls, d: ContractDiff) -> ContractDiffResult:
        return cls(contract_id=d.contract_id, from_version=d.from_version, to_version=d.to_version,
                   changes=_changes(d.diff), severity=d.diff.severity,
                   migration_guide=d.migration_guide, next_version=d.next_version,
                   version_rule=d.version_rule)


@strawberry.input(name="ProposedColumnInput", description="A column of a proposed schema.")
class ColumnInput:
    name: str
    type: str = strawberry.field(description="As the source spells it: int4, VARCHAR(20), TIMESTAMP …")
    nullable: bool = True
    default: str | None = None

    def spec(self, position: int) -> ColumnSpec:
        return ColumnSpec(self.name, self.type, self.nullable, self.default, position)
