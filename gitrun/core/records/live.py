"""Reading what live writers logged but have not committed yet (read-only).

A process commits its runs every few seconds (``GITRUN_FLUSH_INTERVAL``), so another
process reading git sees a running run's latest points up to that late.  Every point
is in the writer's journal at once, though: watching a live run (``gitrun metrics
--follow``, ``gitrun plot``) reads the journals too.  Nothing is locked, written or
replayed: a journal is only read, and a record half-written is invisible (its length
is written last).  Each chunk's points are the whole chunk as its writer holds it
(a writer journals every point of a chunk it fills), so where git already has a chunk
the journal's copy is the same points or more.  A journal started by rotation holds
a chunk's points from its position ``at`` on (those before are in git).
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field

from gitrun.core.records import journal as jnl
from gitrun.core.records import layout, series
from gitrun.core.records.store import RecordStore


@dataclass
class LiveChunk:
    steps: list[int] = field(default_factory=list)
    timestamps: list[int] = field(default_factory=list)
    values: list[float] = field(default_factory=list)
    at: int = 0
    """How many of the chunk's points come before these (in git already)."""


def live_chunks(journal_dir: str, run_id: str, key: str) -> dict[str, LiveChunk]:
    """Chunk name -> its points, from every journal in ``journal_dir``."""
    found: dict[str, LiveChunk] = {}
    try:
        names = sorted(os.listdir(journal_dir))
    except OSError:
        return found
    for name in names:
        if not name.endswith(".jnl"):
            continue
        try:
            contents = jnl.read_records(os.path.join(journal_dir, name))
            handles: dict[int, LiveChunk] = {}
            for _offset, kind, payload in contents.records:
                if kind == jnl.POINT:
                    chunk = handles.get(payload[0])
                    if chunk is not None:
                        chunk.steps.append(payload[1])
                        chunk.timestamps.append(payload[2])
                        chunk.values.append(payload[3])
                elif kind == jnl.CHUNK and payload.get("run") == run_id and payload.get("key") == key:
                    chunk = LiveChunk(at=int(payload.get("at") or 0))
                    handles[int(payload["h"])] = chunk
                    found[str(payload["chunk"])] = chunk
        except (OSError, ValueError, KeyError, TypeError):
            continue  # a journal being recovered or removed right now: git has its data
    return found


def committed_chunks(store: RecordStore, run_id: str, key: str) -> dict[str, LiveChunk]:
    """A series as committed at the records tip, chunk by chunk."""
    entry = store.entry(f"{layout.run_dir(run_id)}/{layout.METRICS_DIR}/{layout.encode_key(key)}")
    found: dict[str, LiveChunk] = {}
    if entry is None:
        return found
    for name, chunk in sorted(store.repo.read_tree(entry.oid).items()):
        steps, timestamps, values = series.decode_chunk(store.repo.read_blob(chunk.oid), name)
        found[name] = LiveChunk(list(steps), list(timestamps), list(values))
    return found


def series_with_live_points(store: RecordStore, run_id: str, key: str) -> LiveChunk:
    """The committed series plus what live writers journaled since, chunks in name order
    (as ``metric_history`` orders them); a chunk's longer copy wins."""
    chunks = committed_chunks(store, run_id, key)
    for name, journaled in live_chunks(os.path.join(store.repo.gitrun_dir, "journal"), run_id, key).items():
        chunk = journaled
        if journaled.at:
            base = chunks.get(name)
            if base is None or len(base.values) < journaled.at:
                continue  # git does not have the points before these yet: read them next time
            at = journaled.at
            chunk = LiveChunk(
                base.steps[:at] + journaled.steps,
                base.timestamps[:at] + journaled.timestamps,
                base.values[:at] + journaled.values,
            )
        if name not in chunks or len(chunk.values) > len(chunks[name].values):
            chunks[name] = chunk
    out = LiveChunk()
    for name in sorted(chunks):
        out.steps += chunks[name].steps
        out.timestamps += chunks[name].timestamps
        out.values += chunks[name].values
    return out
