"""The managed-table writer: applies validated batches to a contract's target, idempotently.

One batch is one warehouse transaction, never one per row: its landing-log rows, quarantined
records, target rows, idempotency keys and (for backfills) its checkpoint commit together, so a
crash mid-batch leaves nothing half-applied. The same batch sent twice changes no target row.

How a batch reaches the target:

    upsert / latest_wins   INSERT … ON CONFLICT (key) DO UPDATE … WHERE the record is newer
                           (or equally new and different); SQLite: one ``executemany``;
                           PostgreSQL: COPY into a temp table, then one INSERT … SELECT
    upsert / ignore        the same with DO NOTHING (replay/backfill's IDEMPOTENCY_KEY strategy)
    upsert / error         staged; records whose key is stored (or earlier in the batch) with
                           other values are refused and quarantined; the rest insert
    append                 staged; the first record of each key not seen within the dedupe
                           window inserts, and the key's ``seen_at`` moves

A dry run applies every batch inside one transaction and rolls it back: its estimates are the
exact counts the real run would have produced at that moment.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from gateway.warehouse.contract import Warehouse
from gateway.warehouse.ingest_tables import IngestTables, qualified, quote


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
        # ON CONFLICT DO NOTHING: a second runner learns "already applied" without an error.
        cur.execute(self.tables.sql(
            f"INSERT INTO {self.names.checkpoints} (operation_id, batch_no, accepted, duplicates, quarantined, \"at\") "
            "VALUES (?, ?, 0, 0, 0, ?) ON CONFLICT DO NOTHING"), (*checkpoint, now))
        return bool(cur.rowcount == 1)

    def _upsert(self, cur: Any, spec: TargetSpec, batch: Batch, outcome: BatchOutcome) -> None:
        target = qualified(spec.physical_name)
        cols = ", ".join(quote(c) for c in spec.columns)
        keys = ", ".join(quote(k) for k in spec.key)
        if spec.conflict == "ignore":
            action = "DO NOTHING"
        else:
            ev = quote(spec.event_time)
            changed = " OR ".join(f"t.{quote(c)} IS DISTINCT FROM excluded.{quote(c)}"
                                  for c in spec.compared()) or "FALSE"
            sets = ", ".join(f"{quote(c)} = excluded.{quote(c)}" for c in spec.columns if c not in spec.key)
            action = (f"DO UPDATE SET {sets} WHERE excluded.{ev} > t.{ev} "
                      f"OR (excluded.{ev} = t.{ev} AND ({changed}))")
        if self.tables.dialect.staged_upsert:
            stage = self._stage(cur, spec, batch)
            order = f"{keys}, {quote(spec.event_time)} DESC, spyne_seq DESC" if spec.conflict != "ignore" \
                else f"{keys}, spyne_seq"
            # One row per key (PostgreSQL refuses to touch a row twice in one statement).
            cur.execute(f"INSERT INTO {target} AS t ({cols}) SELECT {cols} FROM "
                        f"(SELECT DISTINCT ON ({keys}) * FROM {stage} ORDER BY {order}) s "
                        f"ON CONFLICT ({keys}) {action}")
        else:
            marks = ", ".join("?" for _ in spec.columns)
            cur.executemany(f"INSERT INTO {target} AS t ({cols}) VALUES ({marks}) "
                            f"ON CONFLICT ({keys}) {action}", batch.rows)
        outcome.accepted = max(cur.rowcount, 0)
        outcome.duplicates = len(batch.rows) - outcome.accepted

    def _upsert_refusing(self, cur: Any, spec: TargetSpec, batch: Batch, outcome: BatchOutcome) -> None:
        target = qualified(spec.physical_name)
        stage = self._stage(cur, spec, batch)
        cols = ", ".join(quote(c) for c in spec.columns)
        same_key = " AND ".join(f"a.{quote(k)} = b.{quote(k)}" for k in spec.key)
        differs = " OR ".join(f"a.{quote(c)} IS DISTINCT FROM b.{quote(c)}"
                              for c in spec.compared()) or "FALSE"
        cur.execute(f"SELECT a.spyne_seq, 'stored' FROM {stage} a JOIN {target} b ON {same_key} WHERE {differs} "
                    f"UNION SELECT a.spyne_seq, 'batch' FROM {stage} a JOIN {stage} b ON {same_key} "
                    f"AND b.spyne_seq < a.spyne_seq WHERE {differs}")
        refused: dict[int, str] = {}
        for seq, where in cur.fetchall():
            refused.setdefault(int(seq), where)
        if refused:
            marks = ", ".join("?" for _ in refused)
            cur.execute(self.tables.sql(f"DELETE FROM {stage} WHERE spyne_seq IN ({marks})"), tuple(refused))
        keys = ", ".join(quote(k) for k in spec.key)
        first = f"spyne_seq IN (SELECT MIN(spyne_seq) FROM {stage} GROUP BY {keys})"
        cur.execute(f"INSERT INTO {target} AS t ({cols}) SELECT {cols} FROM {stage} WHERE {first} "
                    f"ORDER BY spyne_seq ON CONFLICT ({keys}) DO NOTHING")
        outcome.accepted = max(cur.rowcount, 0)
        outcome.duplicates = len(batch.rows) - len(refused) - outcome.accepted
        rows = [(seq, "conflict: the idempotency key " + batch.keys[seq] + (
            " is stored with other values" if where == "stored" else
            " appears earlier in the same batch with other values") + " (conflictResolution: error)")
            for seq, where in sorted(refused.items())]
        outcome.refused = rows
        outcome.conflicts.extend(r for _, r in rows[:20])

    def _append(self, cur: Any, spec: TargetSpec, batch: Batch, now: float, outcome: BatchOutcome) -> None:
        target = qualified(spec.physical_name)
        stage = self._stage(cur, spec, batch, with_key=True)
        cols = ", ".join(quote(c) for c in spec.columns)
        cutoff = -1e300 if spec.window_seconds is None else now - spec.window_seconds
        first = f"s.spyne_seq IN (SELECT MIN(spyne_seq) FROM {stage} GROUP BY spyne_key)"
        seen = (f"SELECT 1 FROM {self.names.keys} k WHERE k.contract_id = ? AND k.version = ? "
                "AND k.key = s.spyne_key AND k.seen_at > ?")
        cur.execute(self.tables.sql(
            f"INSERT INTO {target} ({cols}) SELECT {', '.join('s.' + quote(c) for c in spec.columns)} "
            f"FROM {stage} s WHERE {first} AND NOT EXISTS ({seen}) ORDER BY s.spyne_seq"),
            (spec.contract_id, spec.version, cutoff))
        outcome.accepted = max(cur.rowcount, 0)
        outcome.duplicates = len(batch.rows) - outcome.accepted
        cur.execute(self.tables.sql(
            f"INSERT INTO {self.names.keys} AS k (contract_id, version, key, seen_at) "
            f"SELECT ?, ?, s.spyne_key, ? FROM {stage} s WHERE {first} "
            "ON CONFLICT (contract_id, version, key) DO UPDATE SET seen_at = excluded.seen_at "
            "WHERE k.seen_at <= ?"), (spec.contract_id, spec.version, now, cutoff))

    # --- plumbing ------------------------------------------------------------------------

    def _stage(self, cur: Any, spec: TargetSpec, batch: Batch, with_key: bool = False) -> str:
        """A temporary copy of the batch, numbered by arrival (``spyne_seq``)."""
        name = "spyne_stage"
        d = self.tables.dialect
        defs = ["spyne_seq BIGINT"] + (["spyne_key TEXT"] if with_key else []) + [
            f"{quote(c)} {d.types[t]}" for c, t in zip(spec.columns, spec.types, strict=True)]
        cur.execute(d.temp_drop.format(name=name))
        cur.execute(d.temp_table.format(name=name, defs=", ".join(defs)))
        head = ("spyne_seq", "spyne_key") if with_key else ("spyne_seq",)
        rows = ([(i, batch.keys[i], *r) for i, r in enumerate(batch.rows)] if with_key
                else [(i, *r) for i, r in enumerate(batch.rows)])
        self._copy_or_many(cur, name, (*head, *spec.columns), rows)
        return name

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
