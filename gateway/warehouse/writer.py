"""The managed-table writer: applies validated batches to a contract's target, idempotently.

One batch is one warehouse transaction, never one per row: its landing-log rows, quarantined
records, target rows, idempotency keys and (for backfills) its checkpoint commit together, so a
crash mid-batch leaves nothing half-applied. The same batch sent twice changes no target row.

How a batch reaches the target (the per-engine spelling is ``ingest_dialect``'s: ON CONFLICT, or
MySQL's ON DUPLICATE KEY UPDATE with ``IF`` per column; ``IS DISTINCT FROM`` or ``<=>``):

    upsert / latest_wins   insert, or update where the record is newer (or equally new and
                           different); SQLite: one ``executemany``; the others: the batch staged
                           (COPY, column lists or ``executemany``), one row per key (ROW_NUMBER),
                           one INSERT … SELECT
    upsert / ignore        the same, skipping stored keys (replay/backfill's IDEMPOTENCY_KEY strategy)
    upsert / error         staged; records whose key is stored (or earlier in the batch) with
                           other values are refused and quarantined; the rest insert
    append                 staged; the first record of each key not seen within the dedupe
                           window inserts, and the key's ``seen_at`` moves

No statement reads the staging table twice (MySQL cannot open a temporary table twice in one
statement): windows (ROW_NUMBER, FIRST_VALUE) stand in for self-joins and ``IN (SELECT MIN …)``.

A dry run applies every batch inside one transaction and rolls it back: its estimates are the
exact counts the real run would have produced at that moment.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from gateway.warehouse.contract import Warehouse
from gateway.warehouse.ingest_dialect import qualified, quote
from gateway.warehouse.ingest_tables import IngestTables


@dataclass(frozen=True, slots=True)
class TargetSpec:
    contract_id: str
    version: int
    physical_name: str
    columns: tuple[str, ...]
    types: tuple[str, ...]  # canonical contract types, same order
    key: tuple[str, ...]
    event_time: str
    mode: str  # append | upsert
    conflict: str  # latest_wins | error | ignore
    window_seconds: float | None  # append: None means "ever seen"
    processing_time: str | None = None  # stamped at load: never makes a record "different"

    def compared(self) -> list[str]:
        return [c for c in self.columns if c not in self.key and c != self.processing_time]


@dataclass(slots=True)
class Batch:
    rows: list[tuple[Any, ...]] = field(default_factory=list)  # validated, in column order
    keys: list[str] = field(default_factory=list)  # the idempotency key as one string
    raws: list[str] = field(default_factory=list)  # what arrived, for the landing log
    event_times: list[str] = field(default_factory=list)  # canonical UTC text
    line_numbers: list[int | None] = field(default_factory=list)
    quarantine: list[tuple[int | None, str, str]] = field(default_factory=list)  # (line, reason, raw)
    land: bool = True


@dataclass(slots=True)
class BatchOutcome:
    accepted: int = 0
    duplicates: int = 0
    quarantined: int = 0
    conflicts: list[str] = field(default_factory=list)
    refused: list[tuple[int, str]] = field(default_factory=list)  # (row index, reason): quarantined
    skipped: bool = False  # a checkpoint said this batch was already applied


class CheckpointTaken(Exception):
    """Another run already committed this batch of the operation."""


class IngestWriter:
    def __init__(self, warehouse: Warehouse) -> None:
        self.tables = IngestTables(warehouse)
        self.names = self.tables.names

    def key_text_chars(self, spec: TargetSpec) -> int | None:
        """What a text/JSON column of the key holds here (its validator quarantines the rest)."""
        return self.tables.dialect.key_text_chars(
            [t for c, t in zip(spec.columns, spec.types, strict=True) if c in spec.key])

    # --- entry points (blocking: call through ``Warehouse.run``) -------------------------

    def apply(self, spec: TargetSpec, batch: Batch, *, run_id: str,
              checkpoint: tuple[str, int] | None = None) -> BatchOutcome:
        d = self.tables.dialect
        with self.tables.raw() as (conn, cur):
            d.start(cur)
            try:
                outcome = self._apply(cur, spec, batch, run_id, checkpoint)
            except CheckpointTaken:
                d.rollback(conn, cur)
                return BatchOutcome(skipped=True)
            except BaseException:
                d.rollback(conn, cur)
                raise
            d.commit(conn, cur)
            return outcome

    def simulate(self, spec: TargetSpec, batches: Iterable[Batch], run_id: str = "dry-run") -> BatchOutcome:
        """Apply everything in one transaction, then roll it back: exact estimates."""
        total = BatchOutcome()
        d = self.tables.dialect
        with self.tables.raw() as (conn, cur):
            d.start(cur)
            try:
                for batch in batches:
                    out = self._apply(cur, spec, batch, run_id, None)
                    total.accepted += out.accepted
                    total.duplicates += out.duplicates
                    total.quarantined += out.quarantined
                    total.conflicts.extend(out.conflicts[:20])
            finally:
                d.rollback(conn, cur)
            return total

    # --- one batch ---------------------------------------------------------------------

    def _apply(self, cur: Any, spec: TargetSpec, batch: Batch, run_id: str,
               checkpoint: tuple[str, int] | None) -> BatchOutcome:
        now = time.time()
        if checkpoint is not None and not self._claim(cur, checkpoint, now):
            raise CheckpointTaken(checkpoint)
        if batch.land and batch.rows:
            self._copy_or_many(cur, self.names.landing,
                               ("contract_id", "version", "run_id", "received_at", "event_time", "record"),
                               [(spec.contract_id, spec.version, run_id, now, e, r)
                                for e, r in zip(batch.event_times, batch.raws, strict=True)])
        outcome = BatchOutcome()
        if batch.rows:
            if spec.mode == "append":
                self._append(cur, spec, batch, now, outcome)
            elif spec.conflict == "error":
                self._upsert_refusing(cur, spec, batch, outcome)
            else:
                self._upsert(cur, spec, batch, outcome)
        quarantine = batch.quarantine + [(batch.line_numbers[i], reason, batch.raws[i])
                                         for i, reason in outcome.refused]
        if quarantine:
            self._copy_or_many(cur, self.names.quarantine,
                               ("contract_id", "version", "run_id", "received_at", "line_number", "reason", "raw"),
                               [(spec.contract_id, spec.version, run_id, now, line, reason, raw)
                                for line, reason, raw in quarantine])
        outcome.quarantined = len(quarantine)
        if checkpoint is not None:
            cur.execute(self.tables.sql(f"UPDATE {self.names.checkpoints} SET accepted = ?, duplicates = ?, "
                                        "quarantined = ? WHERE operation_id = ? AND batch_no = ?"),
                        (outcome.accepted, outcome.duplicates, outcome.quarantined, *checkpoint))
        return outcome

    def _claim(self, cur: Any, checkpoint: tuple[str, int], now: float) -> bool:
        # Skip on conflict: a second runner learns "already applied" without an error.
        conflict = self.tables.dialect.conflict
        cur.execute(self.tables.sql(conflict.insert(
            self.names.checkpoints, ("operation_id", "batch_no", "accepted", "duplicates", "quarantined", "at"),
            "VALUES (?, ?, 0, 0, 0, ?)", ("operation_id", "batch_no"))), (*checkpoint, now))
        return bool(cur.rowcount == 1)

    def _upsert(self, cur: Any, spec: TargetSpec, batch: Batch, outcome: BatchOutcome) -> None:
        d = self.tables.dialect
        c = d.conflict
        target = qualified(spec.physical_name)
        keys = ", ".join(quote(k) for k in spec.key)
        sets: list[str] | None = None
        when: str | None = None
        ev = spec.event_time
        if spec.conflict != "ignore":
            new_ev, old_ev = c.new(ev), c.old(target, ev)
            changed = " OR ".join(d.differs(c.old(target, col), c.new(col)) for col in spec.compared()) or "FALSE"
            sets = [col for col in spec.columns if col not in spec.key]
            when = f"{new_ev} > {old_ev} OR ({new_ev} = {old_ev} AND ({changed}))"
        reads = (ev, *spec.compared())
        if d.staged_upsert:
            stage = self._stage(cur, spec, batch)
            order = f"{quote(ev)} DESC, spyne_seq DESC" if spec.conflict != "ignore" else "spyne_seq"
            matched = self._matched(cur, spec, stage) if c.updates_count_twice else (0, 0)
            # One row per key (PostgreSQL refuses to touch a row twice in one statement).
            cur.execute(c.insert(target, spec.columns, f"SELECT {', '.join(quote(x) for x in spec.columns)} "
                                 f"FROM {self._first_rows(stage, keys, order)} WHERE s.spyne_rn = 1",
                                 spec.key, sets, when, reads))
        else:
            marks = ", ".join("?" for _ in spec.columns)
            cur.executemany(c.insert(target, spec.columns, f"VALUES ({marks})", spec.key, sets, when, reads),
                            batch.rows)
        written = max(cur.rowcount, 0)
        if c.updates_count_twice:  # rowcount = inserted + 2 × updated
            inserted = matched[0] - matched[1]
            written = inserted + (written - inserted) // 2
        outcome.accepted = written
        outcome.duplicates = len(batch.rows) - outcome.accepted

    def _matched(self, cur: Any, spec: TargetSpec, stage: str) -> tuple[int, int]:
        """(distinct keys of the batch, how many of them the target holds already)."""
        keys = ", ".join(quote(k) for k in spec.key)
        on = " AND ".join(f"s.{quote(k)} = t.{quote(k)}" for k in spec.key)
        cur.execute(f"SELECT COUNT(*), COUNT(t.{quote(spec.key[0])}) FROM (SELECT DISTINCT {keys} FROM {stage}) s "
                    f"LEFT JOIN {qualified(spec.physical_name)} t ON {on}")
        row = cur.fetchone()
        return int(row[0]), int(row[1])

    @staticmethod
    def _first_rows(stage: str, partition: str, order: str) -> str:
        """The staged rows numbered within their key (``s.spyne_rn``), ``order`` first. A window,
        not a second reference to the staging table: MySQL cannot open a temporary table twice
        in one statement."""
        return (f"(SELECT *, ROW_NUMBER() OVER (PARTITION BY {partition} ORDER BY {order}) AS spyne_rn "
                f"FROM {stage}) s")

    def _upsert_refusing(self, cur: Any, spec: TargetSpec, batch: Batch, outcome: BatchOutcome) -> None:
        d = self.tables.dialect
        target = qualified(spec.physical_name)
        stage = self._stage(cur, spec, batch)
        keys = ", ".join(quote(k) for k in spec.key)
        same_key = " AND ".join(f"a.{quote(k)} = b.{quote(k)}" for k in spec.key)
        compared = spec.compared()
        differs = " OR ".join(d.differs(f"a.{quote(c)}", f"b.{quote(c)}") for c in compared) or "FALSE"
        cur.execute(f"SELECT a.spyne_seq FROM {stage} a JOIN {target} b ON {same_key} WHERE {differs}")
        refused: dict[int, str] = {int(seq): "stored" for (seq,) in cur.fetchall()}
        # A record differs from an earlier one of its key exactly when some record up to it differs
        # from the key's first (equality is transitive): a running flag over the key's records.
        firsts = "".join(f", FIRST_VALUE({quote(c)}) OVER (PARTITION BY {keys} ORDER BY spyne_seq) AS spyne_f{i}"
                         for i, c in enumerate(compared))
        from_first = " OR ".join(d.differs(quote(c), f"spyne_f{i}") for i, c in enumerate(compared)) or "FALSE"
        cur.execute(f"SELECT spyne_seq FROM (SELECT spyne_seq, MAX(CASE WHEN {from_first} THEN 1 ELSE 0 END) "
                    f"OVER (PARTITION BY {keys} ORDER BY spyne_seq ROWS UNBOUNDED PRECEDING) AS spyne_refused "
                    f"FROM (SELECT *{firsts} FROM {stage}) x) y WHERE spyne_refused = 1")
        for (seq,) in cur.fetchall():
            refused.setdefault(int(seq), "batch")
        if refused:
            marks = ", ".join("?" for _ in refused)
            cur.execute(self.tables.sql(f"DELETE FROM {stage} WHERE spyne_seq IN ({marks})"), tuple(refused))
        cols = ", ".join(quote(c) for c in spec.columns)
        cur.execute(d.conflict.insert(target, spec.columns, f"SELECT {cols} FROM "
                                      f"{self._first_rows(stage, keys, 'spyne_seq')} WHERE s.spyne_rn = 1 "
                                      "ORDER BY s.spyne_seq", spec.key))
        outcome.accepted = max(cur.rowcount, 0)
        outcome.duplicates = len(batch.rows) - len(refused) - outcome.accepted
        rows = [(seq, "conflict: the idempotency key " + batch.keys[seq] + (
            " is stored with other values" if where == "stored" else
            " appears earlier in the same batch with other values") + " (conflictResolution: error)")
            for seq, where in sorted(refused.items())]
        outcome.refused = rows
        outcome.conflicts.extend(r for _, r in rows[:20])

    def _append(self, cur: Any, spec: TargetSpec, batch: Batch, now: float, outcome: BatchOutcome) -> None:
        d = self.tables.dialect
        target = qualified(spec.physical_name)
        stage = self._stage(cur, spec, batch, with_key=True)
        cols = ", ".join(quote(c) for c in spec.columns)
        cutoff = -1e300 if spec.window_seconds is None else now - spec.window_seconds
        first = self._first_rows(stage, "spyne_key", "spyne_seq")
        seen = (f"SELECT 1 FROM {self.names.keys} k WHERE k.contract_id = ? AND k.version = ? "
                "AND k.\"key\" = s.spyne_key AND k.seen_at > ?")
        cur.execute(self.tables.sql(
            f"INSERT INTO {target} ({cols}) SELECT {', '.join('s.' + quote(c) for c in spec.columns)} "
            f"FROM {first} WHERE s.spyne_rn = 1 AND NOT EXISTS ({seen}) ORDER BY s.spyne_seq"),
            (spec.contract_id, spec.version, cutoff))
        outcome.accepted = max(cur.rowcount, 0)
        outcome.duplicates = len(batch.rows) - outcome.accepted
        c = d.conflict
        cur.execute(self.tables.sql(c.insert(
            self.names.keys, ("contract_id", "version", "key", "seen_at"),
            f"SELECT ?, ?, s.spyne_key, ? FROM {first} WHERE s.spyne_rn = 1", ("contract_id", "version", "key"),
            ["seen_at"], f"{c.old(self.names.keys, 'seen_at')} <= ?", ("seen_at",))),
            (spec.contract_id, spec.version, now, cutoff))

    # --- plumbing ------------------------------------------------------------------------

    def _stage(self, cur: Any, spec: TargetSpec, batch: Batch, with_key: bool = False) -> str:
        """A temporary copy of the batch, numbered by arrival (``spyne_seq``)."""
        name = "spyne_stage"
        d = self.tables.dialect
        key_types = [t for c, t in zip(spec.columns, spec.types, strict=True) if c in spec.key]
        defs = ["spyne_seq BIGINT"] + ([f"spyne_key {d.book['key']}"] if with_key else []) + [
            f"{quote(c)} {d.column_type(t, key_types if c in spec.key else None)}"
            for c, t in zip(spec.columns, spec.types, strict=True)]
        cur.execute(d.temp_drop.format(name=name))
        cur.execute(d.temp_table.format(name=name, defs=", ".join(defs)))
        head = ("spyne_seq", "spyne_key") if with_key else ("spyne_seq",)
        values = self.engine_rows(spec, batch.rows)
        rows = ([(i, batch.keys[i], *r) for i, r in enumerate(values)] if with_key
                else [(i, *r) for i, r in enumerate(values)])
        self._copy_or_many(cur, name, (*head, *spec.columns), rows)
        return name

    def engine_rows(self, spec: TargetSpec, rows: list[tuple[Any, ...]]) -> list[tuple[Any, ...]]:
        """Rows as the engine's columns take them: canonical UTC times lose their ``+00:00``
        where a TIMESTAMP column holds UTC wall time (MySQL's DATETIME)."""
        times = [i for i, t in enumerate(spec.types) if t == "TIMESTAMP"]
        if not (times and self.tables.dialect.naive_times):
            return rows
        return [tuple(v[:-6] if i in times and v is not None else v for i, v in enumerate(r)) for r in rows]

    def _copy_or_many(self, cur: Any, table: str, columns: Sequence[str], rows: list[tuple[Any, ...]]) -> None:
        names = ", ".join(quote(c) for c in columns)
        bulk = self.tables.dialect.bulk
        if bulk == "unnest":
            # DuckDB: one statement per batch, each column bound as one list (executemany is a
            # round trip per row there: ~1000× slower).
            if rows:
                lists = [list(column) for column in zip(*rows, strict=True)]
                unnested = ", ".join(f"unnest(?) AS c{i}" for i in range(len(columns)))
                cur.execute(f"INSERT INTO {table} ({names}) SELECT * FROM (SELECT {unnested})", lists)
        elif bulk == "copy":
            with cur.copy(f"COPY {table} ({names}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)
        else:
            marks = ", ".join("?" for _ in columns)
            if rows:
                cur.executemany(self.tables.sql(f"INSERT INTO {table} ({names}) VALUES ({marks})"), rows)
