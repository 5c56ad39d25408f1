"""Declared inputs: stored like artifacts, restored by reproduce, kept by gc, pushed."""

from __future__ import annotations

import os
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


def test_dataset_filters_find_runs_by_their_inputs(in_repo: Path, tmp_path: Path) -> None:
    (in_repo / "data").mkdir()
    (in_repo / "data" / "train.csv").write_text("v1\n")
    with gitrun.start_run() as first:
        gitrun.log_input(in_repo / "data" / "train.csv")
    (in_repo / "data" / "train.csv").write_text("v2\n")  # a new version of the same file
    with gitrun.start_run() as second:
        gitrun.log_input(in_repo / "data" / "train.csv")
        gitrun.log_input(in_repo / "data")
    with gitrun.start_run() as without:
        gitrun.log_metric("m", 1.0)
    client = MlflowClient()
    from gitrun.tracking import inputs

    digest_v1 = inputs.recorded_entries(client.store, first.info.run_id)["data/train.csv"]["digest"]
    digest_v2 = inputs.recorded_entries(client.store, second.info.run_id)["data/train.csv"]["digest"]
    assert digest_v1 != digest_v2 and digest_v1.startswith("sha256:")
    # get_run shows them as MLflow's dataset inputs.
    shown = client.get_run(second.info.run_id).inputs.dataset_inputs
    assert sorted((d.dataset.name, d.dataset.digest) for d in shown) == sorted(
        (path, entry["digest"])
        for path, entry in inputs.recorded_entries(client.store, second.info.run_id).items()
    )
    assert {d.dataset.name for d in shown} == {"data", "data/train.csv"}
    assert all(d.dataset.source_type == "gitrun" and d.tags == [] for d in shown)
    assert client.get_run(without.info.run_id).inputs.dataset_inputs == []

    def found(filter_string: str) -> set[str]:
        return {r.info.run_id for r in client.search_runs(["0"], filter_string)}

    ids = {"first": first.info.run_id, "second": second.info.run_id, "without": without.info.run_id}
    assert found("dataset.name = 'data/train.csv'") == {ids["first"], ids["second"]}
    assert found(f"dataset.digest = '{digest_v1}'") == {ids["first"]}  # which runs saw version 1?
    assert found(f"datasets.digest IN ('{digest_v2}', 'sha256:0')") == {ids["second"]}
    assert found("dataset.name = 'data'") == {ids["second"]}
    assert found("dataset.name LIKE 'data/%' AND dataset.name = 'data'") == {ids["second"]}
    assert found("dataset.name != 'data'") == {ids["first"], ids["second"]}  # any input that differs
    assert found("dataset.context = 'train'") == set()  # gitrun records no context
    # The same answers from an index rebuilt from git alone.
    index = os.path.join(client.store.repo.gitrun_dir, "index.sqlite")
    for suffix in ("", "-wal", "-shm"):
        if os.path.exists(index + suffix):
            os.unlink(index + suffix)
    assert found(f"dataset.digest = '{digest_v1}'") == {ids["first"]}
