"""The :class:`RunStore` of record: runs on the records ref of a git repository.

It wraps the three parts of the storage core that make a run durable: the
:class:`RecordWriter` (writes buffered in memory and journaled, committed in the
background), the :class:`RecordStore` (the ref, its commits and merges) and
recovery (journals of processes that died are replayed when the store opens).
"""

from __future__ import annotations

import warnings
from array import array
from collections.abc import Iterable, Mapping
from typing import Any

from gitrun.core.allocation import collector_paused
from gitrun.core.git.objects import Oid
from gitrun.core.records import layout, series
from gitrun.core.records.pending import FileValue
from gitrun.core.records.recovery import recover
from gitrun.core.records.run_store import MetricColumns, RunState, SeriesChunk
from gitrun.core.records.store import RecordStore
from gitrun.core.records.text import printable
from gitrun.core.records.values import RunRecord, parse_run, record_files
from gitrun.core.records.writer import DEFAULT_FLUSH_INTERVAL, DEFAULT_MAX_PENDING, RecordWriter
from gitrun.errors import InvalidRecord, ResourceDoesNotExist


class GitRunStore:
    """Runs recorded in git.  Opening it replays the journals of dead processes."""

    def __init__(
        self,
        records: RecordStore,
        *,
        flush_interval: float = DEFAULT_FLUSH_INTERVAL,
        max_pending: int = DEFAULT_MAX_PENDING,
        recover_journals: bool = True,
    ) -> None:
        self.records = records
        self.writer = RecordWriter(records, flush_interval=flush_interval, max_pending=max_pending)
        # The hot path goes straight to the writer: no extra call per point.
        self.log_metric = self.writer.log_metric
        if recover_journals:
            try:
                recover(records)
            except Exception as exc:  # noqa: BLE001 - recovery must never stop the store from opening
                warnings.warn(f"gitrun: recovering dead processes' journals failed: {exc}", stacklevel=3)

    # -- writing --------------------------------------------------------------------------

    def create_run(
        self,
        run_id: str,
        info: Mapping[str, Any],
        tags: Mapping[str, str],
        files: Mapping[str, FileValue],
        *,
        owned: bool = True,
    ) -> None:
        self.writer.create_run(run_id, dict(info), tags, files, owned=owned)

    def open_run(self, run_id: str, *, owned: bool) -> None:
        self.writer.open_run(run_id, owned=owned)

    def log_batch(
        self,
        run_id: str,
        *,
        params: Mapping[str, str] | None = None,
        metrics: MetricColumns | None = None,
        tags: Mapping[str, str] | None = None,
        delete_tags: Iterable[str] = (),
    ) -> None:
        writer = self.writer
        if params:
            writer.log_params(run_id, params)
        if metrics is not None and metrics.keys:
            writer.log_metric_columns(run_id, metrics.keys, metrics.values, metrics.steps, metrics.timestamps)
        gone = list(delete_tags)
        if tags or gone:
            writer.set_tags(run_id, tags or {}, gone)

    def update_info(self, run_id: str, fields: Mapping[str, Any], *, allow_deleted: bool = False) -> None:
        self.writer.update_info(run_id, fields, allow_deleted=allow_deleted)

    def update_map(
        self, run_id: str, name: str, items: Mapping[str, Any], delete: Iterable[str] = ()
    ) -> None:
        self.writer.update_map(run_id, name, items, delete)

    def put_files(self, run_id: str, files: Mapping[str, FileValue]) -> None:
        self.writer.put_files(run_id, files)

    # -- reading --------------------------------------------------------------------------

    def read_state(self, run_id: str, *, maps: Iterable[str] = (), files: Iterable[str] = ()) -> RunState:
        return self.writer.view(run_id, maps, files)

    def run_tree(self, run_id: str) -> Oid:
        """The run's tree in git, after committing what this process buffered for it
        (and waiting for a background commit of it that may be in flight)."""
        if self.writer.is_live(run_id):
            self.writer.flush([run_id])
        entry = self.records.entry(layout.run_dir(run_id))
        if entry is None:
            raise ResourceDoesNotExist(f"Run '{run_id}' not found")
        return entry.oid

    def read_run(self, run_id: str) -> RunRecord:
        files = record_files(self.records.repo, self.run_tree(run_id))
        try:
            record = parse_run(run_id, files)
        except InvalidRecord as exc:
            raise InvalidRecord(f"run {run_id}: {printable(exc.message)}") from None
        if record is None:
            raise InvalidRecord(f"run {run_id}: its run.yaml is missing or empty")
        return record

    def series_tree(self, run_id: str, key: str) -> Oid | None:
        """The tree holding a series' chunks: a content address (it changes when points
        are added, so it can key a cache); None when the run has no such metric."""
        entry = self.records.repo.lookup(
            self.run_tree(run_id), f"{layout.METRICS_DIR}/{layout.encode_key(key)}"
        )
        return entry.oid if entry is not None else None

    def series_chunks(self, tree: Oid | None) -> list[SeriesChunk]:
        """The chunks of the series tree :meth:`series_tree` returned, in order."""
        if tree is None:
            return []
        repo = self.records.repo
        chunks: list[tuple[array[int], array[int], array[float]]] = []
        with collector_paused():
            for name, chunk in sorted(repo.read_tree(tree).items()):
                chunks.append(series.decode_chunk(repo.read_blob(chunk.oid), name))
        return chunks

    def metric_series(self, run_id: str, key: str) -> list[SeriesChunk]:
        return self.series_chunks(self.series_tree(run_id, key))

    def run_exists(self, run_id: str) -> bool:
        return self.writer.is_live(run_id) or self.records.entry(layout.run_dir(run_id)) is not None

    def is_live(self, run_id: str) -> bool:
        return self.writer.is_live(run_id)

    # -- lifecycle ------------------------------------------------------------------------

    def flush(self, run_ids: Iterable[str] | None = None) -> None:
        self.writer.flush(run_ids)

    def release(self, run_id: str) -> None:
        self.writer.release(run_id)

    def close(self) -> None:
        self.writer.close()
