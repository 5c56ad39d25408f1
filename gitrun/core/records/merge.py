"""Three-way merges of records, used whenever two writers touched the same run.

Two processes may write one run (a wrapper and the script it runs; a CLI deleting
a run that is still logging), and two machines may record into one experiment.
Every merge here is deterministic and symmetric wherever it matters for
convergence: metric series only grow (union of chunks, the longer version of a
chunk), latest metric values merge by maximum, params are write-once (union), and
everything else merges field by field against the common base.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from gitrun.core.git import trees
from gitrun.core.git.objects import MODE_TREE, Oid, TreeEntry
from gitrun.core.git.repo import Repository
from gitrun.core.records import layout, series, yamlfmt

TERMINAL = frozenset({"FINISHED", "FAILED", "KILLED"})

Resolver = Callable[[str, Any, Any, Any], Any]


def merge_mapping(
    base: Mapping[str, Any],
    ours: Mapping[str, Any],
    theirs: Mapping[str, Any],
    resolve: Resolver | None = None,
) -> dict[str, Any]:
    """Key-by-key three-way merge; deletions are keys absent from one side."""
    missing = object()
    result: dict[str, Any] = {}
    for key in dict.fromkeys([*ours, *theirs, *base]):
        b, o, t = base.get(key, missing), ours.get(key, missing), theirs.get(key, missing)
        if _same(o, t) or _same(t, b):
            value = o
        elif _same(o, b):
            value = t
        elif resolve is not None:
            value = resolve(
                key, None if b is missing else b, None if o is missing else o, None if t is missing else t
            )
        else:
            value = o
        if value is not missing:
            result[key] = value
    return result


def _same(a: Any, b: Any) -> bool:
    # NaN metric values must compare equal to themselves here.
    return a is b or a == b or (a != a and b != b)  # noqa: PLR0124


def _resolve_info(key: str, base: Any, ours: Any, theirs: Any) -> Any:
    if key == "status":
        if (ours in TERMINAL) != (theirs in TERMINAL):
            return ours if ours in TERMINAL else theirs
        return ours
    if key == "end_time":
        return max((v for v in (ours, theirs) if v is not None), default=None)
    if key == "start_time":
        return min((v for v in (ours, theirs) if v is not None), default=None)
    return ours


def _resolve_experiment(key: str, base: Any, ours: Any, theirs: Any) -> Any:
    if key == "creation_time":
        return min(v for v in (ours, theirs) if v is not None)
    if key == "last_update_time":
        return max(v for v in (ours, theirs) if v is not None)
    if key == "tags" and isinstance(ours, dict) and isinstance(theirs, dict):
        return merge_mapping(base or {}, ours, theirs)
    return ours


def _latest_key(point: Mapping[str, Any]) -> tuple[int, int, float]:
    return (point["step"], point["timestamp"], point["value"])


def _merge_latest(
    base: Mapping[str, Any], ours: Mapping[str, Any], theirs: Mapping[str, Any]
) -> dict[str, Any]:
    result = dict(theirs)
    for key, point in ours.items():
        other = result.get(key)
        # MLflow's rule: the latest point is the greatest (step, timestamp, value).
        if other is None or _latest_key(point) > _latest_key(other):
            result[key] = point
    return result


def _symmetric(resolve: Resolver | None) -> Resolver:
    """A resolver whose result does not depend on which side is "ours".

    Between machines, each side merges the other's runs; for them to converge on one
    result, a conflict the field's own rule leaves open is settled the same way on both
    sides (the value whose YAML sorts last), not in favour of whoever merges.
    """

    def settle(key: str, base: Any, ours: Any, theirs: Any) -> Any:
        if resolve is not None:
            picked = resolve(key, base, ours, theirs)
            swapped = resolve(key, base, theirs, ours)
            if _same(picked, swapped):
                return picked
        return max((ours, theirs), key=lambda value: yamlfmt.dump({"v": value}))

    return settle


class _Merger:
    def __init__(self, repo: Repository, symmetric: bool = False) -> None:
        self.repo = repo
        self.symmetric = symmetric

    def _resolver(self, resolve: Resolver | None) -> Resolver | None:
        return _symmetric(resolve) if self.symmetric else resolve

    def load(self, oid: Oid | None, where: str) -> dict[str, Any]:
        if oid is None:
            return {}
        data = yamlfmt.load(self.repo.read_blob(oid), where)
        return data if isinstance(data, dict) else {}

    def blob(self, data: Mapping[str, Any]) -> Oid:
        return self.repo.write_blob(yamlfmt.dump(data).encode())

    def mapping_file(self, name: str, base: Oid | None, ours: Oid, theirs: Oid) -> Oid:
        b, o, t = (self.load(x, name) for x in (base, ours, theirs))
        if name == layout.RUN_FILE:
            return self.blob(merge_mapping(b, o, t, self._resolver(_resolve_info)))
        if name == layout.PARAMS_FILE:
            # Params are write-once: a conflict means two writers disagreed; keep one, stably.
            return self.blob(merge_mapping({}, o, t, self._resolver(None)) if self.symmetric else {**t, **o})
        if name == layout.METRICS_FILE:
            return self.blob(_merge_latest(b, o, t))
        return self.blob(merge_mapping(b, o, t, self._resolver(None)))

    def chunk_count(self, oid: Oid) -> int:
        return series.chunk_count(self.repo.read_blob(oid))

    def metrics_dir(self, base: Oid | None, ours: Oid, theirs: Oid) -> Oid:
        o, t = self.repo.read_tree(ours), self.repo.read_tree(theirs)
        merged: dict[str, TreeEntry] = {}
        for name in dict.fromkeys([*o, *t]):
            a, b = o.get(name), t.get(name)
            if a is None or b is None or a.oid == b.oid:
                merged[name] = a or b  # type: ignore[assignment]
                continue
            chunks = dict(self.repo.read_tree(b.oid))
            for chunk_name, entry in self.repo.read_tree(a.oid).items():
                other = chunks.get(chunk_name)
                # A chunk is only ever extended by its one writer: keep the longer.
                if other is None or self.chunk_count(entry.oid) >= self.chunk_count(other.oid):
                    chunks[chunk_name] = entry
            merged[name] = TreeEntry(name, MODE_TREE, self.repo.write_tree(chunks))
        return self.repo.write_tree(merged)

    def run_tree(self, base: Oid | None, ours: Oid, theirs: Oid) -> Oid:
        b = self.repo.read_tree(base) if base else {}
        o, t = self.repo.read_tree(ours), self.repo.read_tree(theirs)
        merged: dict[str, TreeEntry] = {}
        for name in dict.fromkeys([*o, *t]):
            eo, et, eb = o.get(name), t.get(name), b.get(name)
            if eo is None or et is None:
                entry = eo or et
                assert entry is not None
                # Present on one side only: deleted on the other, or new on this one.
                base_oid = eb.oid if eb else None
                if (eo is None and base_oid == entry.oid) or (et is None and base_oid == entry.oid):
                    continue
                merged[name] = entry
            elif eo.oid == et.oid or (eb is not None and eb.oid == et.oid):
                merged[name] = eo
            elif eb is not None and eb.oid == eo.oid:
                merged[name] = et
            elif name == layout.METRICS_DIR:
                merged[name] = TreeEntry(
                    name, MODE_TREE, self.metrics_dir(eb.oid if eb else None, eo.oid, et.oid)
                )
            elif name.endswith(".yaml") and not eo.is_tree and not et.is_tree:
                oid = self.mapping_file(name, eb.oid if eb else None, eo.oid, et.oid)
                merged[name] = TreeEntry(name, eo.mode, oid)
            else:
                merged[name] = max(eo, et, key=lambda e: e.oid) if self.symmetric else eo
        return self.repo.write_tree(merged)

    def experiment(self, base: Oid | None, ours: Oid, theirs: Oid) -> Oid:
        b, o, t = (self.load(x, "experiment") for x in (base, ours, theirs))
        inner = self._resolver(None)

        def resolve(key: str, bv: Any, ov: Any, tv: Any) -> Any:
            if key == "tags" and isinstance(ov, dict) and isinstance(tv, dict):
                return merge_mapping(bv or {}, ov, tv, inner)
            return _resolve_experiment(key, bv, ov, tv)

        return self.blob(merge_mapping(b, o, t, self._resolver(resolve) or resolve))


def merge_run(repo: Repository, base: Oid | None, ours: Oid, theirs: Oid, symmetric: bool = False) -> Oid:
    """Merge two versions of a run; ``symmetric`` settles conflicts the same way
    whichever side is "ours" (between machines), else in favour of ours (the writer
    that is committing now, within one repository)."""
    return _Merger(repo, symmetric).run_tree(base, ours, theirs)


def merge_experiment(
    repo: Repository, base: Oid | None, ours: Oid, theirs: Oid, symmetric: bool = False
) -> Oid:
    return _Merger(repo, symmetric).experiment(base, ours, theirs)


def merge_roots(repo: Repository, base: Oid | None, ours: Oid, theirs: Oid) -> Oid:
    """Merge two whole record trees (used when syncing with a remote).

    Only what differs between the two sides is visited (:func:`trees.diff_trees`), level
    by level: an entry on one side only is kept; one side's change to an entry (a run,
    a fan-out folder, a file) the other left as in ``base`` wins whole; a run or an
    experiment both sides changed is merged (settled the same way on both machines);
    other folders both changed are descended.  The merged entries are written into
    ``ours`` by :func:`trees.apply_edits`.
    """
    base_dirs: dict[str, dict[str, TreeEntry]] = {"": repo.read_tree(base) if base else {}}

    def base_entry(path: str) -> TreeEntry | None:
        parent, _, name = path.rpartition("/")
        return base_dirs[parent].get(name)

    def descend(change: trees.Change) -> bool:
        if _settle(change, base_entry(change.path)) != _DESCEND:
            return False
        eb = base_entry(change.path)
        base_dirs[change.path] = repo.read_tree(eb.oid) if eb is not None and eb.is_tree else {}
        return True

    edits: dict[str, TreeEntry | None] = {}
    for change in trees.diff_trees(repo, ours, theirs, descend=descend):
        eo, et, eb = change.old, change.new, base_entry(change.path)
        how = _settle(change, eb)
        bo = eb.oid if eb is not None else None
        if isinstance(how, TreeEntry):
            edits[change.path] = how
        elif how == _RUN and eo is not None and et is not None:
            edits[change.path] = TreeEntry(
                change.name, MODE_TREE, merge_run(repo, bo, eo.oid, et.oid, symmetric=True)
            )
        elif how == _EXPERIMENT and eo is not None and et is not None:
            edits[change.path] = TreeEntry(
                change.name, eo.mode, merge_experiment(repo, bo, eo.oid, et.oid, symmetric=True)
            )
    merged = trees.apply_edits(repo, ours, edits) if edits else ours
    assert merged is not None  # entries are only put, never removed
    return merged


_KEEP, _RUN, _EXPERIMENT, _DESCEND = "keep", "run", "experiment", "descend"


def _settle(change: trees.Change, eb: TreeEntry | None) -> TreeEntry | str:
    """How a root merge settles an entry that differs between ours (``old``) and theirs
    (``new``): an entry to put, or keep ours, merge a run or an experiment, descend."""
    eo, et = change.old, change.new
    if et is None:
        return _KEEP  # on our side only
    if eo is None:
        return et
    bo = eb.oid if eb is not None else None
    if et.oid in (eo.oid, bo):
        return _KEEP
    if bo == eo.oid:
        return et
    top, *below = change.path.split("/")
    if top == layout.RUNS_DIR and len(below) == layout.FANOUT_DEPTH + 1:
        return _RUN
    if top == layout.EXPERIMENTS_DIR and below:
        return _EXPERIMENT
    if eo.is_tree and et.is_tree:
        return _DESCEND
    return max(eo, et, key=lambda e: e.oid)  # settled the same way on both sides
