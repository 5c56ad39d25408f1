"""Recovering the journals of processes that died (SIGKILL, OOM, power cut of a node).

A journal whose ``flock`` can be taken belongs to a dead process.  Its records are
replayed on top of what that process had already committed, and the runs it owned
that are still RUNNING are marked KILLED, with everything they logged.

Replay is idempotent: metric points are matched to chunks by name, and the points a
chunk already holds in git are skipped; other records are replayed only after the
journal's "flushed" mark.
"""

from __future__ import annotations

import os
import time
from typing import Any

from gitrun.core.records import journal as jnl
from gitrun.core.records import layout, series
from gitrun.core.records.pending import Chunk, PendingRun
from gitrun.core.records.store import RecordStore
from gitrun.core.records.writer import RecordWriter
from gitrun.errors import GitrunError

_ABANDONED_NEW_SECONDS = 60


def recover(store: RecordStore) -> list[str]:
    """Replay every dead journal of this repository; returns the runs touched."""
    folder = os.path.join(store.repo.gitrun_dir, "journal")
    try:
        names = sorted(os.listdir(folder))
    except FileNotFoundError:
        return []
    touched: list[str] = []
    for name in names:
        path = os.path.join(folder, name)
        if name.endswith(".jnl.new"):
            _remove_abandoned(path)
            continue
        if not name.endswith(".jnl"):
            continue
        fd = jnl.try_lock_dead(path)
        if fd is None:
            continue
        try:
            touched += _replay(store, path)
            os.unlink(path)
        finally:
            os.close(fd)
    return touched


def _remove_abandoned(path: str) -> None:
    # A process killed between creating and publishing its journal wrote nothing.
    try:
        if time.time() - os.path.getmtime(path) > _ABANDONED_NEW_SECONDS:
            fd = jnl.try_lock_dead(path)
            if fd is not None:
                os.unlink(path)
                os.close(fd)
    except FileNotFoundError:
        pass


def _replay(store: RecordStore, path: str) -> list[str]:
    _writer_id, flushed, records = jnl.read_records(path)
    writer = RecordWriter(store, flush_interval=0, use_journal=False)
    owned: set[str] = set()
    chunks: dict[int, tuple[PendingRun, str, Chunk]] = {}
    skip: dict[int, int] = {}
    for offset, kind, payload in records:
        if kind == jnl.POINT:
            handle, step, timestamp, value = payload
            target = chunks.get(handle)
            if target is None:
                continue
            if skip.get(handle):
                skip[handle] -= 1
                continue
            run, key, chunk = target
            chunk.steps.append(step)
            chunk.timestamps.append(timestamp)
            chunk.values.append(value)
            point = (step, timestamp, value)
            if key not in run.latest or point > run.latest[key]:
                run.latest[key] = point
            writer._mark(run, layout.METRICS_FILE)
        elif kind == jnl.RUN:
            run_id = payload["run"]
            if payload.get("owned"):
                owned.add(run_id)
            _open(writer, run_id, payload.get("create"))
        elif kind == jnl.CHUNK:
            _resume_chunk(writer, payload, chunks, skip)
        elif offset >= flushed:
            _replay_change(writer, kind, payload)
    end_ms = int(os.path.getmtime(path) * 1000)
    for run_id in owned:
        live = writer._runs.get(run_id)
        if live is not None and live.info.get("status") == "RUNNING":
            writer.update_info(run_id, {"status": "KILLED", "end_time": end_ms}, allow_deleted=True)
    touched = sorted(writer._runs)
    writer.flush()
    return touched


def _open(writer: RecordWriter, run_id: str, create: dict[str, Any] | None) -> None:
    if run_id in writer._runs:
        return
    try:
        writer._get(run_id)
    except GitrunError:
        if create is None:
            return
        files = {k: (int(v[0]), v[1]) if v else None for k, v in create.get("files", {}).items()}
        writer.create_run(run_id, create["info"], create.get("tags", {}), files)


def _resume_chunk(
    writer: RecordWriter,
    payload: dict[str, Any],
    chunks: dict[int, tuple[PendingRun, str, Chunk]],
    skip: dict[int, int],
) -> None:
    run = writer._runs.get(payload["run"])
    if run is None:
        return
    key, name = payload["key"], payload["chunk"]
    chunk = writer._new_chunk(run, key, run.tails.get(key), name=name)
    path = f"{layout.METRICS_DIR}/{layout.encode_key(key)}/{name}"
    entry = writer.store.repo.lookup(run.base, path) if run.base else None
    if entry is not None:
        steps, timestamps, values = series.decode_chunk(writer.store.repo.read_blob(entry.oid), path)
        chunk.steps, chunk.timestamps, chunk.values = steps, timestamps, values
        chunk.committed = len(values)
        skip[payload["h"]] = len(values)
    chunks[payload["h"]] = (run, key, chunk)


def _replay_change(writer: RecordWriter, kind: int, payload: dict[str, Any]) -> None:
    run_id = payload.get("run", "")
    if run_id not in writer._runs:
        return
    try:
        if kind == jnl.PARAMS:
            writer.log_params(run_id, payload["params"])
        elif kind == jnl.TAGS:
            tags = writer._runs[run_id].tags
            writer.set_tags(run_id, payload["set"], [k for k in payload["delete"] if k in tags])
        elif kind == jnl.INFO:
            writer.update_info(run_id, payload["info"], allow_deleted=True)
        elif kind == jnl.FILES:
            files = {k: (int(v[0]), v[1]) if v else None for k, v in payload["files"].items()}
            writer.put_files(run_id, files)
        elif kind == jnl.MAP:
            writer.update_map(run_id, payload["file"], payload["set"], payload["delete"])
    except GitrunError:
        pass  # a later change by another writer wins over a replayed one
