"""Code and environment differences (gitrun.tracking.diffs), through git's own diff."""

from __future__ import annotations

from pathlib import Path

import gitrun
from gitrun.tracking import details, diffs
from gitrun.tracking.client import Client


def record(name: str) -> str:
    with gitrun.start_run(run_name=name) as run:
        gitrun.log_param("p", name)
    return run.info.run_id


def test_snapshot_diff_shows_uncommitted_changes(in_repo: Path) -> None:
    clean = record("clean")
    (in_repo / "train.py").write_text("print('train')\nprint('more')\n")
    (in_repo / "new file.py").write_text("x = 1\n")
    (in_repo / "data.bin").write_bytes(b"\0\1\2")
    dirty = record("dirty")
    store = Client().store
    note = diffs.snapshot_diff(store, details.run_details(store, clean))
    assert note.files == [] and "clean" in (note.note or "")
    diff = diffs.snapshot_diff(store, details.run_details(store, dirty))
    files = {f.path: f for f in diff.files}
    assert set(files) == {"train.py", "new file.py", "data.bin"}
    assert files["train.py"].status == "modified" and files["train.py"].lines[-1] == "+print('more')"
    assert (files["train.py"].added, files["train.py"].removed) == (1, 0)
    assert files["new file.py"].status == "added" and files["new file.py"].lines == [
        "@@ -0,0 +1 @@",
        "+x = 1",
    ]
    assert files["data.bin"].binary and files["data.bin"].lines == []


def test_two_runs_code_diff_with_a_rename_and_a_deletion(in_repo: Path) -> None:
    first = record("first")
    (in_repo / "train.py").rename(in_repo / "main.py")
    (in_repo / ".gitignore").unlink()
    second = record("second")
    store = Client().store
    diff = diffs.runs_code_diff(store, details.run_details(store, first), details.run_details(store, second))
    by_status = {f.status: f for f in diff.files}
    assert by_status["renamed"].path == "main.py" and by_status["renamed"].old_path == "train.py"
    assert by_status["deleted"].path == ".gitignore" and by_status["deleted"].removed == 1
    same = diffs.runs_code_diff(store, details.run_details(store, first), details.run_details(store, first))
    assert same.files == [] and same.note is None


def test_environment_diff_lists_only_differing_packages(in_repo: Path) -> None:
    a, b = record("a"), record("b")
    store = Client().store
    runs = [details.run_details(store, a), details.run_details(store, b)]
    env = diffs.environment_diff(runs)
    assert env.packages == [] and env.same_packages > 10
    assert {r.key for r in env.summary} >= {"python", "platform", "packages"}
    assert not any(r.differs for r in env.summary)
    changed = details.RunDetails(
        **{**runs[1].__dict__, "environment": {**runs[1].environment, "packages": {"numpy": "0.1"}}}
    )
    env = diffs.environment_diff([runs[0], changed])
    numpy = next(r for r in env.packages if r.key == "numpy")
    assert numpy.values[1] == "0.1" and numpy.differs
    assert any(r.values[1] is None for r in env.packages)  # packages the changed run lacks
