"""Stores written by real MLflow import with every value equal (compared field by field
through MLflow's API and gitrun's); a second import adds nothing; a killed import
resumes; an export reads back through MLflow's own API the same way."""

from __future__ import annotations

import hashlib
import os
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from gitrun.cli.main import cli
from gitrun.tracking import entities as ent
from gitrun.tracking.client import Client
from tests.conftest import git
from tests.migrate.clients.run_dump import run_entry
from tests.server.mlflow.harness import child_env, mlflow_python, start_gitrun_server

CLIENTS = Path(__file__).resolve().parent / "clients"


def run_mlflow(script: str, *args: str, **env: str) -> dict[str, Any]:
    import json

    proc = subprocess.run(
        [mlflow_python(), str(CLIENTS / script), *args],
        env=child_env(MLFLOW_ALLOW_FILE_STORE="true", **env),
        capture_output=True,
        timeout=900,
        check=False,
    )
    if proc.returncode != 0:
        raise AssertionError(f"{script} failed:\n{proc.stderr.decode()[-4000:]}")
    line = [x for x in proc.stdout.decode().splitlines() if x.startswith("RESULT ")][-1]
    return json.loads(line[len("RESULT ") :])  # type: ignore[no-any-return]


def gitrun_dump(repo: Path) -> dict[str, Any]:
    """What gitrun's API reads, in dump_store.py's shape."""
    client = Client(str(repo))
    experiments, runs = {}, {}
    for exp in client.search_experiments(view_type=ent.ViewType.ALL):
        experiments[exp.name] = {
            "lifecycle_stage": exp.lifecycle_stage,
            "tags": {k: v for k, v in exp.tags.items() if not k.startswith("mlflow.")},
        }
        for found in client.search_runs(
            [exp.experiment_id], run_view_type=ent.ViewType.ALL, max_results=10000
        ):
            run = client.get_run(found.info.run_id)
            info = run.info
            artifacts: dict[str, list[Any]] = {}
            with tempfile.TemporaryDirectory() as scratch:
                if client.list_artifacts(info.run_id):
                    local = client.download_artifacts(info.run_id, "", scratch)
                    for here, _, names in os.walk(local):
                        for name in names:
                            path = os.path.join(here, name)
                            rel = os.path.relpath(path, local).replace(os.sep, "/")
                            data = Path(path).read_bytes()
                            artifacts[rel] = [len(data), hashlib.sha256(data).hexdigest()]
            runs[info.run_id] = run_entry(
                exp.name, run, lambda key: client.get_metric_history(info.run_id, key), artifacts
            )
    return {"experiments": experiments, "runs": runs}


def comparable(dump: dict[str, Any]) -> dict[str, Any]:
    """Drop what legitimately differs: experiment ids; JSON turns tuples into lists."""
    import json

    out = json.loads(json.dumps(dump))
    for exp in out["experiments"].values():
        exp.pop("id", None)
    for run in out["runs"].values():
        run["datasets"] = [[n, d, s, [list(t) for t in tags]] for n, d, s, tags in run["datasets"]]
    # Experiments with no run and no tag may exist on one side only (Default).
    out["experiments"] = {
        name: e
        for name, e in out["experiments"].items()
        if e["tags"] or any(r["experiment"] == name for r in out["runs"].values())
    }
    return out


def cli_in(repo: Path, *args: str) -> str:
    old = os.getcwd()
    os.chdir(repo)
    try:
        result = CliRunner().invoke(cli, list(args), catch_exceptions=False)
    finally:
        os.chdir(old)
    assert result.exit_code == 0, result.output
    return result.output


@pytest.fixture(scope="module")
def stores(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    """One MLflow file store and one sqlite store, written by MLflow, and their dumps."""
    mlflow_python()
    work = tmp_path_factory.mktemp("mlflow-stores")
    found: dict[str, Any] = {}
    for kind, uri in (("file", f"file://{work}/mlruns"), ("sqlite", f"sqlite:///{work}/mlflow.db")):
        os.makedirs(work / kind, exist_ok=True)
        made = run_mlflow("make_store.py", uri, str(work / kind))
        found[kind] = {"uri": uri, "made": made, "dump": run_mlflow("dump_store.py", uri), "work": work}
    yield found


def _import(repo: Path, uri: str, *extra: str) -> str:
    return cli_in(repo, "import-mlflow", uri, "--no-progress", *extra)


@pytest.mark.parametrize("kind", ["file", "sqlite"])
def test_import_equals_what_mlflow_reads(stores: dict[str, Any], kind: str, work_repo: Path) -> None:
    store = stores[kind]
    out = _import(work_repo, store["uri"], "--artifacts-root", str(store["work"]))
    assert "imported 9 new run(s)" in out
    theirs = comparable(store["dump"])
    ours = comparable(gitrun_dump(work_repo))
    assert set(ours["runs"]) == set(theirs["runs"])
    for run_id, expected in theirs["runs"].items():
        for field, value in expected.items():
            assert ours["runs"][run_id][field] == value, (run_id, field)
    assert ours["experiments"] == theirs["experiments"]
    made = store["made"]
    client = Client(str(work_repo))
    assert client.get_run(made["deleted"]).info.lifecycle_stage == "deleted"
    assert client.get_parent_run(made["parent"]) is None
    children = [r for r in theirs["runs"].values() if r["tags"].get("mlflow.parentRunId") == made["parent"]]
    assert len(children) == 3
    assert len(ours["runs"][made["special"]]["histories"]["long"]) == 12_000
    # runs:/ URIs keep working: the ids are kept.
    assert client.download_artifacts(made["parent"], "notes.txt", str(work_repo / "dl")).endswith("notes.txt")
    # Identical files are stored once (content-addressed).
    arts = ours["runs"][made["parent"]]["artifacts"]
    assert arts["outputs/a.txt"][1] == arts["outputs/sub/copy.txt"][1]

    # A second import adds nothing: not even a commit.
    tip = git(work_repo, "rev-parse", "refs/gitrun/records")
    out = _import(work_repo, store["uri"], "--artifacts-root", str(store["work"]))
    assert "imported 0 new run(s), updated 0, 9 unchanged" in out
    assert git(work_repo, "rev-parse", "refs/gitrun/records") == tip
    # New runs in the source: just those are added.
    late = run_mlflow("make_store.py", store["uri"], str(store["work"] / kind), "--more")["late"]
    out = _import(work_repo, store["uri"], "--experiment", "imported")
    assert "imported 1 new run(s), updated 0, 7 unchanged" in out
    assert Client(str(work_repo)).get_run(late).data.params == {"late": "yes"}


def test_dry_run_writes_nothing(stores: dict[str, Any], work_repo: Path) -> None:
    out = _import(work_repo, stores["sqlite"]["uri"], "--dry-run")
    assert "would import" in out
    assert git(work_repo, "rev-parse", "--verify", "-q", "refs/gitrun/records", check=False).strip() == ""


def test_export_reads_back_through_mlflow(stores: dict[str, Any], work_repo: Path, tmp_path: Path) -> None:
    store = stores["sqlite"]
    _import(work_repo, store["uri"], "--artifacts-root", str(store["work"]))
    dest = tmp_path / "exported"
    out = cli_in(work_repo, "export-mlflow", str(dest))
    assert "run(s)" in out
    theirs = comparable(run_mlflow("dump_store.py", f"file://{dest}"))
    ours = comparable(gitrun_dump(work_repo))
    assert theirs["runs"].keys() == ours["runs"].keys()
    for run_id, expected in ours["runs"].items():
        for field, value in expected.items():
            assert theirs["runs"][run_id][field] == value, (run_id, field)
    assert theirs["experiments"] == ours["experiments"]


def test_import_from_a_server_over_rest(stores: dict[str, Any], work_repo: Path, tmp_path: Path) -> None:
    """A gitrun server (artifacts proxied, as mlflow-artifacts:) read over MLflow's REST API."""
    store = stores["file"]
    _import(work_repo, store["uri"], "--artifacts-root", str(store["work"]))
    server = start_gitrun_server(work_repo, tmp_path / "server.log", "--read-only")
    other = tmp_path / "other"
    other.mkdir()
    git(other, "init", "-q")
    try:
        out = _import(other, server.url)
    finally:
        server.stop()
    source_runs = comparable(gitrun_dump(work_repo))["runs"]
    assert f"imported {len(source_runs)} new run(s)" in out
    assert comparable(gitrun_dump(other))["runs"] == source_runs


def test_killed_import_resumes(work_repo: Path, tmp_path: Path) -> None:
    uri = f"sqlite:///{tmp_path}/big.db"
    run_mlflow("make_big.py", uri, "60", "1000")
    expected = comparable(run_mlflow("dump_store.py", uri))
    argv = [sys.executable, "-m", "gitrun.cli", "import-mlflow", uri, "--no-progress"]
    # Small commits, so that the first one lands early and the kill comes mid-import.
    env = child_env(GITRUN_FLUSH_POINTS="3000")
    proc = subprocess.Popen(argv, cwd=work_repo, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline and proc.poll() is None:
        # Kill once the first runs are committed (more are on their way).
        if git(work_repo, "ls-tree", "refs/gitrun/records", "runs", check=False).strip():
            break
        time.sleep(0.02)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    assert proc.returncode == -signal.SIGKILL, "the import finished before it could be killed"
    client = Client(str(work_repo))
    big = client.get_experiment_by_name("big")
    assert big is not None
    assert len(client.search_runs([big.experiment_id], run_view_type=ent.ViewType.ALL)) < 60
    out = _import(work_repo, uri)
    assert "60 run(s) in the source" in out
    ours = comparable(gitrun_dump(work_repo))
    assert ours["runs"] == expected["runs"]
