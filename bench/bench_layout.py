"""Design study (issue 2 §2): one ref per run versus one shared ref, measured at 100k runs.

* shared ref (gitrun's design): ``refs/gitrun/records``, runs under a 16-ary x 3
  fan-out tree, every record a compare-and-swap of that one ref;
* ref per run (DVC's choice): ``refs/gitrun/runs/<id>``, each run its own root
  commit holding the same run tree, refs packed (``git pack-refs --all``);
* sharded shared refs (a middle way, ``--shards K``): gitrun's records tree split
  over 16**K refs ``refs/gitrun/shards/<first K characters of the run id>``.

All hold byte-identical run trees (``synth.py``).  For each: time to record one
more run, to list all run ids, to push 10 new runs to a bare ``file://`` remote that
holds the rest, to fetch 10 new runs into a clone, to sync after both sides
recorded 10 (fetch, merge, push), the ref advertisement, size after ``git gc``, and
loose objects/bytes written per run.

    python bench/bench_layout.py [--runs 100000] [--quick] [--shards 2] [--workdir DIR]

``--workdir`` keeps the built repositories there and reuses them on the next call.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import common
import synth
from common import median

from gitrun.core.git.objects import MODE_TREE, Commit, Oid, TreeEntry
from gitrun.core.git.repo import Repository
from gitrun.core.git.trees import apply_edits
from gitrun.core.records import layout
from gitrun.core.records.merge import merge_roots
from gitrun.core.records.store import Edit, RecordStore

RUNS_PREFIX = "refs/gitrun/runs/"
WHO = "bench <bench@example.com> 1700000000 +0000"


def git(*args: str, cwd: str, data: bytes | None = None) -> bytes:
    proc = subprocess.run(
        ["git", *args], cwd=cwd, input=data, capture_output=True, env=common.bench_env(), check=False
    )
    if proc.returncode != 0:
        raise RuntimeError(f"git {' '.join(args)} in {cwd}: {proc.stderr.decode(errors='replace')}")
    return proc.stdout


def seconds(fn: Callable[[], object]) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


# -- the layouts ----------------------------------------------------------------------------------


def _walk_runs(repo: Repository, root: Oid) -> dict[str, Oid]:
    """Run id -> run tree below ``runs/a/b/c/`` of one records tree."""
    level = [e.oid for e in repo.read_tree(root).values() if e.name == layout.RUNS_DIR]
    for _ in range(layout.FANOUT_DEPTH):
        level = [e.oid for oid in level for e in repo.read_tree(oid).values()]
    return {e.name: e.oid for oid in level for e in repo.read_tree(oid).values()}


class SharedRefs:
    """gitrun's records tree on one ref, or split over 16**k refs by the run id's first k characters."""

    def __init__(self, prefix_chars: int = 0) -> None:
        self.chars = prefix_chars
        self.slug = f"shards{16**prefix_chars}" if prefix_chars else "shared"
        if prefix_chars:
            self.name = f"{16**prefix_chars} shared refs"
            self.prefix = "refs/gitrun/shards/"
            self.push_spec = self.fetch_spec = f"{self.prefix}*:{self.prefix}*"
        else:
            self.name = "one shared ref"
            self.prefix = layout.RECORDS_REF
            self.push_spec = self.fetch_spec = f"{layout.RECORDS_REF}:{layout.RECORDS_REF}"

    def ref(self, run_id: str) -> str:
        return self.prefix + run_id[: self.chars] if self.chars else self.prefix

    def record(self, repo: Repository, run_id: str, tree: Oid) -> None:
        edit = {layout.run_dir(run_id): Edit(tree, MODE_TREE, None)}
        RecordStore(repo, self.ref(run_id)).commit(edit, f"gitrun: record {run_id}")

    def refs(self, repo: Repository) -> dict[str, Oid]:
        if not self.chars:
            tip = repo.refs.read(self.prefix)
            return {self.prefix: tip} if tip else {}
        return repo.refs.list(self.prefix)

    def list_ids(self, path: str) -> list[str]:
        repo = Repository(path)
        return [
            run for tip in self.refs(repo).values() for run in _walk_runs(repo, repo.read_commit(tip).tree)
        ]

    def sync(self, path: str, remote: str) -> None:
        """Fetch, merge diverged record trees (gitrun's merge_roots), push."""
        tracking = "refs/gitrun/remotes/origin/"
        spec = f"+{self.prefix}*:{tracking}*" if self.chars else f"+{self.prefix}:{tracking}records"
        git("fetch", "--quiet", remote, spec, cwd=path)
        repo = Repository(path)
        theirs_refs = repo.refs.list(tracking)
        for name, ours in self.refs(repo).items():
            theirs = theirs_refs.get(tracking + (name[len(self.prefix) :] if self.chars else "records"))
            if theirs is None or theirs == ours:
                continue
            base = Oid(git("merge-base", ours, theirs, cwd=path).decode().strip())
            if base == theirs:
                continue  # only ours moved
            if base == ours:
                new = theirs  # fast-forward
            else:
                trees = (repo.read_commit(x).tree for x in (base, ours, theirs))
                merged = merge_roots(repo, *trees)
                new = repo.write_commit(Commit(merged, (ours, theirs), WHO, WHO, "gitrun: merge records\n"))
            assert repo.refs.compare_and_swap(name, ours, new)
        git("push", "--quiet", remote, self.push_spec, cwd=path)


class RefPerRun:
    name = "ref per run"
    slug = "per-run"
    push_spec = fetch_spec = f"{RUNS_PREFIX}*:{RUNS_PREFIX}*"

    def record(self, repo: Repository, run_id: str, tree: Oid) -> None:
        commit = repo.write_commit(Commit(tree, (), WHO, WHO, f"gitrun: record {run_id}\n"))
        assert repo.refs.compare_and_swap(RUNS_PREFIX + run_id, None, commit)

    def list_ids(self, path: str) -> list[str]:
        return [name[len(RUNS_PREFIX) :] for name in Repository(path).refs.list(RUNS_PREFIX)]

    def sync(self, path: str, remote: str) -> None:
        """Runs never conflict: fetch theirs, push ours."""
        git("fetch", "--quiet", remote, self.fetch_spec, cwd=path)
        git("push", "--quiet", remote, self.push_spec, cwd=path)


Design = SharedRefs | RefPerRun


# -- building N runs ----------------------------------------------------------------------------------


def build_shared(path: str, runs: int) -> None:
    git("init", "--quiet", "--bare", path, cwd=os.path.dirname(path))
    synth.generate(path, runs)
    synth.gc(path)


def _reuse_objects(path: str, shared: str) -> Repository:
    """A new bare repository sharing the built one's packs (hard links); it writes packs."""
    git("init", "--quiet", "--bare", path, cwd=os.path.dirname(path))
    source_packs = os.path.join(shared, "objects", "pack")
    for name in os.listdir(source_packs):
        if name.endswith((".pack", ".idx")):
            os.link(os.path.join(source_packs, name), os.path.join(path, "objects", "pack", name))
    repo = Repository(path)
    synth.packing(repo)
    return repo


def _create_refs(path: str, refs: dict[str, Oid]) -> None:
    """One ``git update-ref --stdin`` transaction, then ``pack-refs --all`` and ``gc`` as git gc would."""
    lines = ["start\n", *(f"create {name} {oid}\n" for name, oid in refs.items()), "commit\n"]
    git("update-ref", "--stdin", cwd=path, data="".join(lines).encode())
    git("pack-refs", "--all", cwd=path)
    git("gc", "--quiet", "--prune=now", cwd=path)  # drops the shared layout's fan-out trees and commits


def build_per_run(path: str, shared: str) -> None:
    """The same run trees, each under its own root commit and ref."""
    repo = _reuse_objects(path, shared)
    refs = {}
    for run_id, tree in run_trees(shared).items():
        refs[RUNS_PREFIX + run_id] = repo.write_commit(
            Commit(tree, (), WHO, WHO, f"gitrun: record {run_id}\n")
        )
    assert isinstance(repo.odb, synth.PackingDatabase)
    repo.odb.flush()
    _create_refs(path, refs)


def build_sharded(path: str, shared: str, design: SharedRefs) -> None:
    """The same run trees, split over the shard refs (one commit each)."""
    repo = _reuse_objects(path, shared)
    shards: dict[str, dict[str, TreeEntry | None]] = {}
    for run_id, tree in run_trees(shared).items():
        shards.setdefault(design.ref(run_id), {})[layout.run_dir(run_id)] = TreeEntry(run_id, MODE_TREE, tree)
    refs = {}
    for name, edits in shards.items():
        root = apply_edits(repo, None, edits)
        assert root is not None
        refs[name] = repo.write_commit(Commit(root, (), WHO, WHO, "gitrun: records\n"))
    assert isinstance(repo.odb, synth.PackingDatabase)
    repo.odb.flush()
    _create_refs(path, refs)


def build_layout(design: Design, path: str, shared: str, runs: int) -> None:
    if isinstance(design, RefPerRun):
        build_per_run(path, shared)
    elif design.chars:
        build_sharded(path, shared, design)
    else:
        build_shared(path, runs)


def run_trees(shared: str) -> dict[str, Oid]:
    repo = Repository(shared)
    root = RecordStore(repo).root()
    assert root is not None
    return _walk_runs(repo, root)


# -- measuring --------------------------------------------------------------------------------------


def loose_objects(path: str) -> dict[str, int]:
    """Loose object files (name -> bytes) of a git dir."""
    out = {}
    objects = os.path.join(path, "objects")
    for folder in os.listdir(objects):
        if len(folder) == 2:
            for entry in os.scandir(os.path.join(objects, folder)):
                out[folder + entry.name] = entry.stat().st_size
    return out


def disk_usage(path: str) -> int:
    return sum(os.path.getsize(os.path.join(folder, f)) for folder, _, files in os.walk(path) for f in files)


def advertisement(remote: str, service: str) -> tuple[int, int]:
    """Bytes and refs of the v0 ref advertisement of ``git upload-pack``/``receive-pack``."""
    out = subprocess.run(["git", service, "--advertise-refs", remote], capture_output=True, check=True).stdout
    return len(out), out.count(b"\n")


@dataclass
class Machine:
    """One clone that records runs (loose objects, as gitrun writes them)."""

    path: str
    design: Design
    next_index: int
    env_blob: Oid = field(init=False)

    def __post_init__(self) -> None:
        self.env_blob = synth.environment_blob(Repository(self.path))

    def record(self, count: int) -> list[dict[str, float]]:
        """Record ``count`` new runs; each one's times (content objects, layout part) and loose writes."""
        out = []
        for _ in range(count):
            repo = Repository(self.path)  # a fresh process's view: no object cache
            run = synth.make_run(self.next_index, seed=1)
            self.next_index += 1
            before = loose_objects(self.path)
            start = time.perf_counter()
            tree = synth.run_tree(repo, run, self.env_blob)
            middle = time.perf_counter()
            self.design.record(repo, run.run_id, tree)
            end = time.perf_counter()
            new = {k: v for k, v in loose_objects(self.path).items() if k not in before}
            out.append(
                {
                    "content_ms": (middle - start) * 1e3,
                    "layout_ms": (end - middle) * 1e3,
                    "total_ms": (end - start) * 1e3,
                    "objects": len(new),
                    "bytes": sum(new.values()),
                }
            )
        return out


def study(design: Design, work: str, built: str, runs: int, repeats: int) -> dict[str, Any]:
    """All measurements of one layout; ``built`` holds the 100k (left untouched)."""
    remote = os.path.join(work, f"{design.slug}-remote.git")
    one, two = (os.path.join(work, f"{design.slug}-machine{i}.git") for i in (1, 2))
    for target in (remote, one, two):
        shutil.rmtree(target, ignore_errors=True)
        git("clone", "--quiet", "--mirror", built, target, cwd=work)
    url = "file://" + remote
    m1, m2 = Machine(one, design, runs), Machine(two, design, runs + 1_000_000)
    result: dict[str, Any] = {"layout": design.name}

    listing = [seconds(lambda: design.list_ids(one)) for _ in range(repeats)]
    result["list_ids"] = {"ms": [x * 1e3 for x in listing], "count": len(design.list_ids(one))}
    result["record"] = m1.record(4 * repeats)
    git("push", "--quiet", url, design.push_spec, cwd=one)
    git("fetch", "--quiet", url, design.fetch_spec, cwd=two)

    push, fetch, sync = [], [], []
    for _ in range(repeats):
        m1.record(10)
        push.append(seconds(lambda: git("push", "--quiet", url, design.push_spec, cwd=one)))
        fetch.append(seconds(lambda: git("fetch", "--quiet", url, design.fetch_spec, cwd=two)))
        m2.record(10)
        m1.record(10)
        git("push", "--quiet", url, design.push_spec, cwd=one)
        sync.append(seconds(lambda: design.sync(two, url)))
        git("fetch", "--quiet", url, design.fetch_spec, cwd=one)  # machine 1 catches up (fast-forward)
    result["push10_ms"] = [x * 1e3 for x in push]
    result["fetch10_ms"] = [x * 1e3 for x in fetch]
    result["sync10_ms"] = [x * 1e3 for x in sync]
    result["upload_pack_adv"] = advertisement(remote, "upload-pack")
    result["receive_pack_adv"] = advertisement(remote, "receive-pack")
    result["loose_before_gc"] = len(loose_objects(one))
    result["gc_s"] = seconds(lambda: git("gc", "--quiet", "--prune=now", cwd=one))
    result["disk_bytes"] = disk_usage(one)
    result["packed_refs_bytes"] = os.path.getsize(os.path.join(one, "packed-refs"))
    result["pack_bytes"] = disk_usage(os.path.join(one, "objects", "pack"))
    return result


def table(results: list[dict[str, Any]]) -> list[tuple[str, ...]]:
    def rec(r: dict[str, Any], key: str) -> float:
        return median([x[key] for x in r["record"]])

    rows: list[tuple[str, Callable[[dict[str, Any]], str]]] = [
        ("record one run: total (ms)", lambda r: f"{rec(r, 'total_ms'):.2f}"),
        ("  run content objects (ms)", lambda r: f"{rec(r, 'content_ms'):.2f}"),
        ("  layout part: trees/commit + ref (ms)", lambda r: f"{rec(r, 'layout_ms'):.2f}"),
        ("  loose objects written per run", lambda r: f"{rec(r, 'objects'):.0f}"),
        ("  loose bytes written per run", lambda r: f"{rec(r, 'bytes'):,.0f}"),
        ("list all run ids (ms)", lambda r: f"{median(r['list_ids']['ms']):,.0f}"),
        ("push 10 new runs (ms)", lambda r: f"{median(r['push10_ms']):,.0f}"),
        ("fetch 10 new runs (ms)", lambda r: f"{median(r['fetch10_ms']):,.0f}"),
        ("sync, 10 new on each side (ms)", lambda r: f"{median(r['sync10_ms']):,.0f}"),
        ("ref advertisement, upload-pack v0 (bytes)", lambda r: f"{r['upload_pack_adv'][0]:,}"),
        ("ref advertisement, receive-pack (bytes)", lambda r: f"{r['receive_pack_adv'][0]:,}"),
        ("on disk after git gc (MB)", lambda r: f"{r['disk_bytes'] / 1e6:.1f}"),
        ("  of which packed-refs (MB)", lambda r: f"{r['packed_refs_bytes'] / 1e6:.2f}"),
        ("git gc time (s)", lambda r: f"{r['gc_s']:.1f}"),
    ]
    return [("", *(r["layout"] for r in results))] + [
        (label, *(fn(r) for r in results)) for label, fn in rows
    ]


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--runs", type=int, default=100_000)
    parser.add_argument("--quick", action="store_true", help="2,000 runs, 3 repeats")
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--shards", type=int, default=2, help="also measure 16**K shared refs (0: skip)")
    parser.add_argument("--workdir", help="build (and keep) the repositories here; reused when present")
    args = parser.parse_args()
    runs, repeats = (2000, 3) if args.quick else (args.runs, args.repeats)
    load_before = common.machine_load()
    print(f"layout study at {runs:,} runs; {load_before}", file=sys.stderr)
    work = args.workdir or tempfile.mkdtemp(prefix="gitrun-layout-")
    os.makedirs(work, exist_ok=True)
    shared = SharedRefs()
    designs: list[Design] = [shared, RefPerRun()]
    if args.shards:
        designs.append(SharedRefs(args.shards))
    built = {d.slug: os.path.join(work, f"{d.slug}-{runs}.git") for d in designs}
    build: dict[str, float] = {}
    for design in designs:
        path = built[design.slug]
        if os.path.exists(os.path.join(path, "built")):
            continue
        shutil.rmtree(path, ignore_errors=True)
        start = time.perf_counter()
        build_layout(design, path, built[shared.slug], runs)
        build[design.slug] = time.perf_counter() - start
        open(os.path.join(path, "built"), "w").close()
    print(f"  built (s): {build or 'reused'}", file=sys.stderr)
    results = []
    for design in designs:
        print(f"  measuring {design.name} ({common.machine_load()}) ...", file=sys.stderr, flush=True)
        results.append(study(design, work, built[design.slug], runs, repeats))
    load_after = common.machine_load()
    lines = table(results)
    widths = [max(len(line[i]) for line in lines) for i in range(len(lines[0]))]
    print(f"\nLayout study, {runs:,} runs (median of {repeats}); before: {load_before}; after: {load_after}")
    for line in lines:
        print(
            "  ".join(
                [line[0].ljust(widths[0]), *(c.rjust(w) for c, w in zip(line[1:], widths[1:], strict=True))]
            )
        )
    path = common.write_json(
        "layout.json",
        {
            "runs": runs,
            "repeats": repeats,
            "build": build,
            "load_before": load_before,
            "load_after": load_after,
            "git": git("--version", cwd=work).decode().strip(),
            "results": results,
        },
    )
    print(f"\nwritten {path}")
    if not args.workdir:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
