"""What a writer holds of one run between commits, and what one commit takes of it.

A :class:`PendingRun` is the run's committed state (its tree, ``base``) plus the
changes this process made since: YAML files marked dirty, series chunks filling up,
extra tree entries.  A flush takes a :class:`Snapshot` of each changed run under the
writer's lock, builds the trees without it, and after the commit :func:`absorb`
records what landed, merging in another writer's changes to the same run.
"""

from __future__ import annotations

from array import array
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from gitrun.core.git.objects import MODE_BLOB, Oid, TreeEntry
from gitrun.core.git.trees import apply_edits
from gitrun.core.records import layout, merge, series
from gitrun.core.records.store import RecordStore
from gitrun.errors import ResourceDoesNotExist

FileValue = tuple[int, Oid] | None
Point = tuple[int, int, float]


@dataclass(eq=False)
class Chunk:
    """The points of one series chunk; ``committed`` of them are in git."""

    name: str
    handle: int
    steps: array[int] = field(default_factory=lambda: array("q"))
    timestamps: array[int] = field(default_factory=lambda: array("q"))
    values: array[float] = field(default_factory=lambda: array("d"))
    committed: int = 0


@dataclass(eq=False)
class PendingRun:
    """One run as this process knows it: committed state plus what waits for a commit."""

    run_id: str
    path: str
    base: Oid | None
    info: dict[str, Any]
    params: dict[str, str]
    tags: dict[str, str]
    latest: dict[str, Point]
    owned: bool
    tails: dict[str, Chunk] = field(default_factory=dict)
    sealed: list[tuple[str, Chunk]] = field(default_factory=list)
    files: dict[str, FileValue] = field(default_factory=dict)
    maps: dict[str, dict[str, Any]] = field(default_factory=dict)
    dirty: set[str] = field(default_factory=set)
    overwrite: bool = False
    """The run's tree in git cannot be read (recovery rebuilds it from a journal): the
    next commit replaces it instead of merging with it."""

    @property
    def deleted(self) -> bool:
        return self.info.get("lifecycle_stage") == "deleted"


def latest_as_yaml(latest: Mapping[str, Point]) -> dict[str, dict[str, Any]]:
    return {k: {"step": s, "timestamp": t, "value": v} for k, (s, t, v) in latest.items()}


def latest_from_yaml(data: Mapping[str, Any]) -> dict[str, Point]:
    return {k: (int(p["step"]), int(p["timestamp"]), float(p["value"])) for k, p in data.items()}


class Snapshot:
    """What one flush writes of one run, and how to undo taking it if the commit fails."""

    def __init__(self, run: PendingRun) -> None:
        self.run = run
        self.yaml: dict[str, dict[str, Any]] = {}
        self.chunks: list[tuple[str, Chunk, int]] = []
        self.arrays: list[tuple[str, str, array[int], array[int], array[float]]] = []
        self.sealed: list[tuple[str, Chunk]] = []
        self.files: dict[str, FileValue] = {}
        self.state: tuple[dict[str, Any], dict[str, str], dict[str, str], dict[str, Point]] = ({}, {}, {}, {})
        self.maps: dict[str, dict[str, Any]] = {}

    def restore(self) -> None:
        run = self.run
        run.dirty.update(self.yaml)
        run.dirty.add(layout.METRICS_FILE)
        run.sealed[:0] = self.sealed
        for name, value in self.files.items():
            run.files.setdefault(name, value)


def load_run(store: RecordStore, run_id: str) -> PendingRun:
    """A run as committed, ready to take changes (not owned by this process)."""
    path = layout.run_dir(run_id)
    entry = store.entry(path)
    if entry is None:
        raise ResourceDoesNotExist(f"Run with id={run_id} not found")
    tree = store.repo.read_tree(entry.oid)
    where = f"run {run_id}"

    def read(name: str) -> dict[str, Any]:
        e = tree.get(name)
        return store.load_yaml(e.oid, f"{where} {name}") if e else {}

    return PendingRun(
        run_id,
        path,
        entry.oid,
        read(layout.RUN_FILE),
        {k: str(v) for k, v in read(layout.PARAMS_FILE).items()},
        {k: str(v) for k, v in read(layout.TAGS_FILE).items()},
        latest_from_yaml(read(layout.METRICS_FILE)),
        owned=False,
    )


def take_snapshot(run: PendingRun) -> Snapshot:
    """Take what the next commit writes of ``run`` (under the writer's lock); the run
    is left clean, and :meth:`Snapshot.restore` puts it back if the commit fails."""
    snap = Snapshot(run)
    for name in run.dirty:
        if name == layout.RUN_FILE:
            snap.yaml[name] = dict(run.info)
        elif name == layout.PARAMS_FILE:
            snap.yaml[name] = dict(run.params)
        elif name == layout.TAGS_FILE:
            snap.yaml[name] = dict(run.tags)
        elif name == layout.METRICS_FILE:
            snap.yaml[name] = latest_as_yaml(run.latest)
        elif name in run.maps:
            snap.yaml[name] = dict(run.maps[name])
    for key, chunk in run.sealed:
        snap.chunks.append((key, chunk, len(chunk.values)))
    for key, chunk in run.tails.items():
        if len(chunk.values) > chunk.committed:
            snap.chunks.append((key, chunk, len(chunk.values)))
    snap.sealed = list(run.sealed)
    snap.files = dict(run.files)
    snap.state = (dict(run.info), dict(run.params), dict(run.tags), dict(run.latest))
    snap.maps = {name: dict(content) for name, content in run.maps.items()}
    run.sealed.clear()
    run.files.clear()
    run.dirty.clear()
    # Copies of the arrays, taken under the lock, so logging may continue.
    snap.arrays = [
        (key, chunk.name, chunk.steps[:n], chunk.timestamps[:n], chunk.values[:n])
        for key, chunk, n in snap.chunks
    ]
    return snap


def build_tree(store: RecordStore, snap: Snapshot) -> Oid:
    """The run's new tree: its base with the snapshot's files and series chunks."""
    repo = store.repo
    edits: dict[str, TreeEntry | None] = {}
    for name, data in snap.yaml.items():
        edits[name] = TreeEntry(name, MODE_BLOB, store.blob_for(data))
    for key, name, steps, timestamps, values in snap.arrays:
        blob = repo.write_blob(series.encode_chunk(key, steps, timestamps, values))
        path = f"{layout.METRICS_DIR}/{layout.encode_key(key)}/{name}"
        edits[path] = TreeEntry(name, MODE_BLOB, blob)
    for name, value in snap.files.items():
        edits[name] = None if value is None else TreeEntry(name.rsplit("/", 1)[-1], value[0], value[1])
    tree = apply_edits(repo, snap.run.base, edits)
    assert tree is not None
    return tree


def absorb(store: RecordStore, snap: Snapshot, landed: Oid, ours: Oid) -> None:
    """After a commit: ``landed`` is the run's tree in git, ``ours`` the tree we wrote."""
    run = snap.run
    for _key, chunk, n in snap.chunks:
        chunk.committed = max(chunk.committed, n)
    run.base = landed
    if landed == ours:
        return
    # Another writer changed this run too: take in its changes, keeping ours made
    # since the snapshot.
    other = load_run(store, run.run_id)
    info0, _params0, tags0, _latest0 = snap.state
    run.info = merge.merge_mapping(info0, run.info, other.info, merge._resolve_info)
    run.params = {**other.params, **run.params}
    run.tags = merge.merge_mapping(tags0, run.tags, other.tags)
    for key, point in other.latest.items():
        if key not in run.latest or point > run.latest[key]:
            run.latest[key] = point
    for name, content in run.maps.items():
        entry = store.repo.lookup(landed, name)
        theirs = store.load_yaml(entry.oid, name) if entry else {}
        run.maps[name] = merge.merge_mapping(snap.maps.get(name, {}), content, theirs)
