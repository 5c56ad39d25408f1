"""Three-way merges of records (two writers on one run, two machines on one store)."""

from __future__ import annotations

from array import array
from pathlib import Path

from gitrun.core.git.objects import MODE_BLOB, MODE_TREE, Oid, TreeEntry
from gitrun.core.git.repo import Repository
from gitrun.core.git.trees import apply_edits
from gitrun.core.records import merge, series, yamlfmt


def _tree(repo: Repository, files: dict[str, object]) -> Oid:
    edits: dict[str, TreeEntry | None] = {}
    for path, content in files.items():
        data = content if isinstance(content, bytes) else yamlfmt.dump(content).encode()  # type: ignore[arg-type]
        edits[path] = TreeEntry(path.rsplit("/", 1)[-1], MODE_BLOB, repo.write_blob(data))
    tree = apply_edits(repo, None, edits)
    assert tree is not None
    return tree


def _chunk(values: list[float]) -> bytes:
    n = len(values)
    return series.encode_chunk("m", array("q", range(n)), array("q", range(n)), array("d", values))


def _read(repo: Repository, tree: Oid, path: str) -> object:
    entry = repo.lookup(tree, path)
    assert entry is not None
    return yamlfmt.load(repo.read_blob(entry.oid))


def test_run_merge(tmp_path: Path) -> None:
    repo = Repository.init_bare(str(tmp_path / "s.git"))
    info = {
        "run_id": "r",
        "status": "RUNNING",
        "end_time": None,
        "run_name": "a",
        "lifecycle_stage": "active",
    }
    base = _tree(
        repo,
        {
            "run.yaml": info,
            "tags.yaml": {"keep": "1", "drop": "x"},
            "params.yaml": {"p": "1"},
            "metrics.yaml": {"m": {"step": 0, "timestamp": 1, "value": 1.0}},
            "metrics/m/0001-aaaa": _chunk([1.0]),
        },
    )
    ours = _tree(
        repo,
        {
            "run.yaml": {**info, "status": "FINISHED", "end_time": 50},
            "tags.yaml": {"keep": "1", "drop": "x", "mine": "y"},
            "params.yaml": {"p": "1", "q": "2"},
            "metrics.yaml": {"m": {"step": 2, "timestamp": 3, "value": 3.0}},
            "metrics/m/0001-aaaa": _chunk([1.0, 2.0, 3.0]),
        },
    )
    theirs = _tree(
        repo,
        {
            "run.yaml": {**info, "lifecycle_stage": "deleted", "run_name": "b"},
            "tags.yaml": {"keep": "1", "theirs": "z"},
            "params.yaml": {"p": "1", "r": "3"},
            "metrics.yaml": {
                "m": {"step": 1, "timestamp": 9, "value": 9.0},
                "n": {"step": 0, "timestamp": 1, "value": 4.0},
            },
            "metrics/m/0001-aaaa": _chunk([1.0]),
            "metrics/m/0002-bbbb": _chunk([7.0]),
            "metrics/n/0003-bbbb": _chunk([4.0]),
        },
    )
    merged = merge.merge_run(repo, base, ours, theirs)
    assert _read(repo, merged, "run.yaml") == {
        **info,
        "status": "FINISHED",
        "end_time": 50,
        "lifecycle_stage": "deleted",
        "run_name": "b",
    }
    assert _read(repo, merged, "tags.yaml") == {"keep": "1", "mine": "y", "theirs": "z"}
    assert _read(repo, merged, "params.yaml") == {"p": "1", "q": "2", "r": "3"}
    assert _read(repo, merged, "metrics.yaml") == {
        "m": {"step": 2, "timestamp": 3, "value": 3.0},
        "n": {"step": 0, "timestamp": 1, "value": 4.0},
    }
    chunks = repo.read_tree(repo.lookup(merged, "metrics/m").oid)  # type: ignore[union-attr]
    assert sorted(chunks) == ["0001-aaaa", "0002-bbbb"]
    assert series.chunk_count(repo.read_blob(chunks["0001-aaaa"].oid)) == 3
    # Merging the other way round gives the same series and latest values.
    other = merge.merge_run(repo, base, theirs, ours)
    assert repo.lookup(other, "metrics") == repo.lookup(merged, "metrics")
    assert _read(repo, other, "metrics.yaml") == _read(repo, merged, "metrics.yaml")


def test_root_merge_unions_runs_and_experiments(tmp_path: Path) -> None:
    repo = Repository.init_bare(str(tmp_path / "s.git"))
    exp = {"experiment_id": "5", "name": "e", "creation_time": 10, "last_update_time": 10, "tags": {}}
    base = _tree(repo, {"gitrun.yaml": {"schema_version": 1}, "experiments/0.yaml": {"name": "Default"}})
    ours = _tree(
        repo,
        {
            "gitrun.yaml": {"schema_version": 1},
            "experiments/0.yaml": {"name": "Default"},
            "experiments/5.yaml": exp,
            "runs/a/b/c/abc1/run.yaml": {"run_id": "abc1"},
        },
    )
    theirs = _tree(
        repo,
        {
            "gitrun.yaml": {"schema_version": 1},
            "experiments/0.yaml": {"name": "Default"},
            "experiments/5.yaml": {**exp, "creation_time": 7, "last_update_time": 12, "tags": {"t": "1"}},
            "runs/a/b/c/abc2/run.yaml": {"run_id": "abc2"},
        },
    )
    merged = merge.merge_roots(repo, base, ours, theirs)
    assert repo.lookup(merged, "runs/a/b/c/abc1/run.yaml") is not None
    assert repo.lookup(merged, "runs/a/b/c/abc2/run.yaml") is not None
    assert _read(repo, merged, "experiments/5.yaml") == {
        **exp,
        "creation_time": 7,
        "last_update_time": 12,
        "tags": {"t": "1"},
    }
    entry = repo.lookup(merged, "runs")
    assert entry is not None and entry.mode == MODE_TREE


def test_symmetric_merges_converge(tmp_path: Path) -> None:
    """Between machines, both sides must settle a conflict the same way."""
    repo = Repository.init_bare(str(tmp_path / "s.git"))
    info = {"run_id": "r", "status": "FINISHED", "run_name": "base"}
    base = _tree(repo, {"run.yaml": info, "tags.yaml": {"t": "0"}, "environment.yaml": {"python": "3.10"}})
    left = _tree(
        repo,
        {
            "run.yaml": {**info, "run_name": "left"},
            "tags.yaml": {"t": "1"},
            "environment.yaml": {"python": "3.11"},
        },
    )
    right = _tree(
        repo,
        {
            "run.yaml": {**info, "run_name": "right"},
            "tags.yaml": {"t": "2"},
            "environment.yaml": {"python": "3.12"},
        },
    )
    one = merge.merge_run(repo, base, left, right, symmetric=True)
    other = merge.merge_run(repo, base, right, left, symmetric=True)
    assert one == other
    assert _read(repo, one, "run.yaml")["run_name"] == "right"  # type: ignore[index]
    # Within one repository the committing writer wins instead.
    assert _read(repo, merge.merge_run(repo, base, left, right), "run.yaml")["run_name"] == "left"  # type: ignore[index]


def test_root_merge_settles_each_entry_at_its_level_and_converges(tmp_path: Path) -> None:
    """Every rule of the root merge, and the same tree whichever side merges."""
    repo = Repository.init_bare(str(tmp_path / "s.git"))
    run = {"run_id": "x", "status": "FINISHED"}
    common = {
        "gitrun.yaml": {"schema_version": 1},
        "runs/a/a/a/aaa1/run.yaml": run,
        "runs/e/e/e/eee1/run.yaml": run,
        "runs/s/s/s/sss1/run.yaml": run,
    }
    base = _tree(
        repo,
        {
            **common,
            "runs/a/a/a/aaa1/tags.yaml": {"t": "0"},
            "runs/e/e/e/eee2/run.yaml": run,
            "notes/x.txt": b"base",
        },
    )
    ours = _tree(
        repo,
        {
            **common,
            "runs/a/a/a/aaa1/tags.yaml": {"t": "0", "o": "1"},
            "runs/a/a/a/aaa2/run.yaml": run,
            "runs/e/e/e/eee2/run.yaml": run,
            "notes/x.txt": b"ours",
        },
    )
    del common["runs/s/s/s/sss1/run.yaml"]
    theirs = _tree(
        repo,
        {
            **common,
            "runs/a/a/a/aaa1/tags.yaml": {"t": "0", "th": "2"},
            "runs/a/a/a/aaa3/run.yaml": run,
            "notes/x.txt": b"theirs",
        },
    )
    merged = merge.merge_roots(repo, base, ours, theirs)
    # A run both changed is merged run by run; runs new on either side in one folder are kept.
    assert _read(repo, merged, "runs/a/a/a/aaa1/tags.yaml") == {"t": "0", "o": "1", "th": "2"}
    assert sorted(repo.read_tree(repo.lookup(merged, "runs/a/a/a").oid)) == ["aaa1", "aaa2", "aaa3"]  # type: ignore[union-attr]
    # A folder one side left as in base is the other side's, whole (eee2 was removed there)...
    assert sorted(repo.read_tree(repo.lookup(merged, "runs/e/e/e").oid)) == ["eee1"]  # type: ignore[union-attr]
    # ...and an entry one side does not have at all is kept.
    assert repo.lookup(merged, "runs/s/s/s/sss1/run.yaml") is not None
    # Any other conflict is settled by object id, the same on both machines.
    x = repo.lookup(merged, "notes/x.txt")
    assert x is not None and repo.read_blob(x.oid) == max(
        (b"ours", b"theirs"), key=lambda data: repo.write_blob(data)
    )
    swapped = merge.merge_roots(repo, base, theirs, ours)
    for path in ("runs/e", "runs/s", "notes/x.txt", "runs/a/a/a/aaa2", "runs/a/a/a/aaa3"):
        assert repo.lookup(swapped, path) == repo.lookup(merged, path)
    assert _read(repo, swapped, "runs/a/a/a/aaa1/tags.yaml") == {"t": "0", "o": "1", "th": "2"}
    assert merge.merge_roots(repo, base, ours, ours) == ours
    assert merge.merge_roots(repo, None, ours, base) == merge.merge_roots(repo, None, base, ours)
