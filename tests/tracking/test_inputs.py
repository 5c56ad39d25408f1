"""Declared inputs: stored like artifacts, restored by reproduce, kept by gc, pushed."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import gitrun
from gitrun import MlflowClient
from tests.cli.test_run_cli import gitrun_cli
from tests.conftest import git


def test_inputs_are_recorded_restored_and_kept(in_repo: Path, tmp_path: Path) -> None:
    data = in_repo / "data"
    data.mkdir()
    (data / "train.csv").write_text("a,b\n1,2\n")
    (data / "nested").mkdir()
    (data / "nested" / "labels.bin").write_bytes(b"\x00\x01\x02")
    outside = tmp_path / "external.txt"
    outside.write_text("from elsewhere\n")
    (in_repo / ".gitignore").write_text("data/\n")  # typical: data is not in git
    git(in_repo, "commit", "-qam", "ignore data")
    (in_repo / "use.py").write_text(
        "import gitrun\nwith gitrun.start_run() as run:\n"
        "    gitrun.log_metric('rows', len(open('data/train.csv').readlines()))\n"
        "    print(run.info.run_id)\n"
    )
    git(in_repo, "add", "use.py")
    git(in_repo, "commit", "-qm", "use")
    proc = gitrun_cli(
        in_repo, "run", "--input", "data", "--input", str(outside), "--", sys.executable, "use.py"
    )
    assert proc.returncode == 0, proc.stderr
    run_id = proc.stdout.strip().splitlines()[-1]
    stored = MlflowClient().get_run(run_id)
    assert stored.data.metrics == {"rows": 2.0}
    listed = git(
        in_repo, "show", f"refs/gitrun/records:runs/{run_id[0]}/{run_id[1]}/{run_id[2]}/{run_id}/inputs.yaml"
    )
    assert "data:" in listed and "type: dir" in listed and str(outside) in listed

    gc = gitrun_cli(in_repo, "gc")
    assert gc.returncode == 0, gc.stderr
    target = tmp_path / "repro"
    out = gitrun_cli(in_repo, "reproduce", run_id, "--dir", str(target), "--run", "--verify")
    assert out.returncode == 0, out.stdout + out.stderr
    assert (target / "data" / "train.csv").read_text() == "a,b\n1,2\n"
    assert (target / "data" / "nested" / "labels.bin").read_bytes() == b"\x00\x01\x02"
    assert (target / ".gitrun-reproduce/inputs" / str(outside).lstrip("/")).read_text() == "from elsewhere\n"
    assert "input restored (verified)" in out.stdout


def test_log_input_from_the_api(in_repo: Path) -> None:
    (in_repo / "x.txt").write_text("x")
    with gitrun.start_run() as run:
        gitrun.log_input(in_repo / "x.txt")
    from gitrun.tracking import inputs

    entries = inputs.recorded_entries(MlflowClient().store, run.info.run_id)
    assert list(entries) == ["x.txt"] and entries["x.txt"]["size"] == 1
    missing = subprocess.run(
        [sys.executable, "-c", "import gitrun; gitrun.log_input('nope.txt')"],
        cwd=in_repo,
        capture_output=True,
        text=True,
    )
    assert missing.returncode == 1 and "input nope.txt does not exist" in missing.stderr
