"""``gitrun runs ls``, ``show``, ``compare`` and ``experiments ls`` through click's runner."""

from __future__ import annotations

import csv
import io
import json
import re
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

import gitrun
from gitrun import MlflowClient
from gitrun.cli.main import cli
from gitrun.errors import InvalidParameterValue, ResourceDoesNotExist
from gitrun.tracking import details
from gitrun.tracking import entities as ent
from gitrun.tracking.session import open_store

pytestmark = pytest.mark.usefixtures("in_repo")
# The `gitrun` command, run by this interpreter (whatever is on PATH).
GITRUN = [sys.executable, "-m", "gitrun.cli"]


def run_cli(*args: str) -> Result:
    result = CliRunner().invoke(cli, list(args), catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return result


@pytest.fixture
def runs(in_repo: Path) -> dict[str, str]:
    """A parent with two children in experiment "cli", one deleted run, and a dirty-tree run."""
    gitrun.set_experiment("cli")
    ids = {}
    with gitrun.start_run(run_name="search") as parent:
        ids["parent"] = parent.info.run_id
        gitrun.log_param("kind", "grid")
        for lr, acc in ((0.1, 0.8), (0.01, 0.9)):
            with gitrun.start_run(run_name=f"lr-{lr}", nested=True) as child:
                gitrun.log_params({"lr": lr, "model": "cnn"})
                gitrun.log_metrics({"acc": acc, "loss": 1 - acc})
                gitrun.set_tag("team", "red")
                ids[f"lr-{lr}"] = child.info.run_id
    (in_repo / "train.py").write_text("print('changed')\n")
    with gitrun.start_run(run_name="dirty") as run:
        gitrun.log_params({"lr": 0.01, "model": "mlp"})
        gitrun.log_metric("acc", 0.95)
        ids["dirty"] = run.info.run_id
    with gitrun.start_run(run_name="gone") as run:
        ids["gone"] = run.info.run_id
    gitrun.delete_run(ids["gone"])
    gitrun.flush()
    return ids


def test_runs_ls_table(runs: dict[str, str]) -> None:
    out = run_cli("runs", "ls", "-e", "cli").output
    for name in ("search", "lr-0.1", "lr-0.01", "dirty"):
        assert name in out
    assert "gone" not in out
    assert runs["dirty"][:8] in out and runs["dirty"] not in out  # short ids in tables
    header = out.splitlines()[0].split()
    assert header[:5] == ["run", "name", "status", "started", "duration"]
    assert "lr" in header and "acc" in header  # keys unique to one entity lose their prefix
    assert "\x1b[" not in out  # no colour off a terminal
    names = [line.split()[1:3] for line in out.splitlines()[1:-1]]
    # Newest first, children right under their parent in the order they ran.
    assert [n[0] if n[0] not in "├└" else " ".join(n) for n in names] == [
        "dirty",
        "search",
        "├ lr-0.1",
        "└ lr-0.01",
    ]


def test_runs_ls_filter_order_limit_and_views(runs: dict[str, str]) -> None:
    out = run_cli(
        "runs",
        "ls",
        "-e",
        "cli",
        "--filter",
        "metrics.acc > 0.85",
        "--order-by",
        "metrics.acc DESC",
        "--columns",
        "run_name,metrics.acc",
        "--csv",
    ).output
    rows = list(csv.reader(io.StringIO(out)))
    assert rows == [["run_name", "metrics.acc"], ["dirty", "0.95"], ["lr-0.01", "0.9"]]
    out = run_cli(
        "runs", "ls", "--order-by", "metrics.acc", "--limit", "1", "--columns", "name", "--csv"
    ).output
    assert out.splitlines() == ["run_name", "lr-0.1"]
    deleted = run_cli("runs", "ls", "--deleted", "--columns", "run_name", "--csv").output
    assert deleted.splitlines() == ["run_name", "gone"]
    every = run_cli("runs", "ls", "--all", "--columns", "run_name", "--csv").output.splitlines()
    assert sorted(every[1:]) == sorted(["search", "lr-0.1", "lr-0.01", "dirty", "gone"])
    experiment = MlflowClient().get_experiment_by_name("cli")
    assert experiment is not None
    by_id = run_cli("runs", "ls", "-e", experiment.experiment_id, "--csv", "--columns", "run_id").output
    assert set(by_id.splitlines()[1:]) == {runs[k] for k in ("parent", "lr-0.1", "lr-0.01", "dirty")}


def test_runs_ls_json(runs: dict[str, str]) -> None:
    data = json.loads(run_cli("runs", "ls", "--filter", "params.model = 'mlp'", "--json").output)
    assert len(data) == 1
    run = data[0]
    assert run["run_id"] == runs["dirty"] and run["params"] == {"lr": "0.01", "model": "mlp"}
    assert run["metrics"] == {"acc": 0.95} and run["status"] == "FINISHED"
    flat = json.loads(
        run_cli(
            "runs", "ls", "--json", "--columns", "run_name,params.lr", "--filter", "params.model = 'mlp'"
        ).output
    )
    assert flat == [{"run_name": "dirty", "params.lr": "0.01"}]


def test_runs_ls_errors(runs: dict[str, str]) -> None:
    runner = CliRunner()
    with pytest.raises(InvalidParameterValue, match=r"at position \d+"):
        runner.invoke(cli, ["runs", "ls", "--filter", "metrics.acc >"], catch_exceptions=False)
    with pytest.raises(ResourceDoesNotExist, match="no experiment named or numbered 'nope'"):
        runner.invoke(cli, ["runs", "ls", "-e", "nope"], catch_exceptions=False)
    with pytest.raises(InvalidParameterValue, match="unknown column 'bogus'"):
        runner.invoke(cli, ["runs", "ls", "--columns", "bogus"], catch_exceptions=False)
    assert runner.invoke(cli, ["runs", "ls", "--limit", "0"]).exit_code == 2  # click's usage error


def test_runs_ls_colour_only_when_asked(runs: dict[str, str]) -> None:
    out = run_cli("--color", "runs", "ls", "-e", "cli").output
    assert "\x1b[" in out


def test_runs_ls_empty(in_repo: Path) -> None:
    assert "No runs yet." in run_cli("runs", "ls").output
    with pytest.raises(InvalidParameterValue, match="no run has a metric named 'x'"):
        run_cli("runs", "ls", "--filter", "metrics.x > 1")


def test_show_everything_recorded(runs: dict[str, str]) -> None:
    prefix = runs["dirty"][:10]
    out = run_cli("show", prefix).output
    assert f"Run {runs['dirty']}  dirty" in out
    assert "experiment    cli (" in out and "FINISHED (active)" in out
    assert "uncommitted changes recorded" in out and "changed  train.py" in out
    assert "Environment: Python" in out and "packages" in out
    assert "Params" in out and "mlp" in out and "Metrics" in out and "0.95" in out
    assert "mlflow.runName" in out
    assert "Parent: (none)" in out and "Children: (none)" in out and "Artifacts: (none)" in out
    parent = run_cli("show", runs["parent"]).output
    children = parent[parent.index("Children (2;") :].splitlines()
    assert children[0] == f"Children (2; gitrun runs ls --parent {runs['parent'][:8]})"
    assert [line.split() for line in children[2:4]] == [
        [runs["lr-0.1"][:8], "lr-0.1", "FINISHED"],
        [runs["lr-0.01"][:8], "lr-0.01", "FINISHED"],
    ]  # names and status, not bare ids
    child = run_cli("show", runs["lr-0.1"]).output
    assert f"Parent: {runs['parent'][:8]}  search" in child


def test_show_json(runs: dict[str, str]) -> None:
    data = json.loads(run_cli("show", runs["parent"], "--json").output)
    assert data["run_id"] == runs["parent"] and data["experiment_name"] == "cli"
    assert sorted(data["child_run_ids"]) == sorted([runs["lr-0.1"], runs["lr-0.01"]])
    assert data["code"]["commit"] and data["code"]["dirty"] is False
    assert data["environment"]["python"] and data["environment"]["packages"] > 0
    assert data["artifacts"] == {} and data["inputs"] == {} and data["params"] == {"kind": "grid"}


def test_show_lists_artifacts_and_inputs(in_repo: Path) -> None:
    import hashlib

    (in_repo / "data.csv").write_text("a\n1\n")
    with gitrun.start_run() as run:
        gitrun.log_text("hello", "notes/readme.txt")
        gitrun.log_input(in_repo / "data.csv")
    data = json.loads(run_cli("show", run.info.run_id, "--json").output)
    assert data["artifacts"] == {
        "notes/readme.txt": {"digest": "sha256:" + hashlib.sha256(b"hello").hexdigest(), "size": 5}
    }
    assert list(data["inputs"]) == ["data.csv"]
    text = run_cli("show", run.info.run_id).output
    assert "notes/readme.txt" in text and "data.csv" in text and "Artifacts: (none)" not in text


def test_show_resolves_prefixes_like_git(in_repo: Path) -> None:
    # Ids injected so that they share prefixes of every length that matters.
    ids = ["abcdef01" + "0" * 23 + "1", "abcdef01" + "0" * 23 + "2", "abc9" + "0" * 28]
    store = open_store(None)
    store.new_run_id = iter(ids).__next__
    client = MlflowClient()
    assert [client.create_run("0").info.run_id for _ in ids] == ids
    for prefix, matches in (("ABCDEF01", ids[:2]), ("abc", ids), (ids[0][:-1], ids[:2])):
        with pytest.raises(InvalidParameterValue, match="ambiguous") as excinfo:
            CliRunner().invoke(cli, ["show", prefix], catch_exceptions=False)
        assert set(re.findall(r"[0-9a-f]{32}", excinfo.value.message)) == set(matches)
    for prefix, run_id in (("abc9", ids[2]), (ids[0], ids[0]), (ids[1].upper(), ids[1])):
        assert run_id in run_cli("show", prefix).output
    with pytest.raises(ResourceDoesNotExist, match="no run id starts with 'zzzz'"):
        CliRunner().invoke(cli, ["show", "zzzz"], catch_exceptions=False)


def test_errors_exit_1_with_a_message(runs: dict[str, str], in_repo: Path) -> None:
    proc = subprocess.run([*GITRUN, "show", "zzzz"], cwd=in_repo, capture_output=True, text=True, check=False)
    assert proc.returncode == 1
    assert proc.stderr.strip().startswith(
        "gitrun: error: no run id starts with 'zzzz' and no run is named so"
    )
    proc = subprocess.run(
        [*GITRUN, "runs", "ls", "--filter", "metrics.a = 'x'"],
        cwd=in_repo,
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 1 and "Expected numeric value type for metric" in proc.stderr


def test_compare_highlights_differences(runs: dict[str, str]) -> None:
    out = run_cli("compare", runs["lr-0.1"][:12], runs["lr-0.01"][:12]).output
    lines = out.splitlines()
    lr = next(line for line in lines if " lr " in f" {line} " and "0.01" in line)
    assert lr.lstrip("│ ").startswith("*")  # differing rows are marked without colour
    assert not any("model" in line for line in lines)  # same everywhere: hidden by default
    assert "params/metrics with the same value everywhere" in out
    every = run_cli("compare", "--all-rows", runs["lr-0.1"], runs["lr-0.01"]).output
    assert "model" in every
    code = run_cli("compare", runs["lr-0.01"], runs["dirty"]).output
    assert "dirty" in code and "train.py" in code


def test_compare_json(runs: dict[str, str]) -> None:
    data = json.loads(run_cli("compare", "--json", runs["lr-0.01"], runs["dirty"]).output)
    assert data["params"]["model"] == {"values": ["cnn", "mlp"], "differs": True}
    assert data["params"]["lr"] == {"values": ["0.01", "0.01"], "differs": False}
    assert data["metrics"]["loss"]["values"][1] is None
    assert data["code"]["dirty"] == {"values": [False, True], "differs": True}
    assert data["package_differences"] == {}


def test_compare_needs_two_runs(runs: dict[str, str]) -> None:
    with pytest.raises(InvalidParameterValue, match="at least two runs"):
        CliRunner().invoke(cli, ["compare", runs["dirty"]], catch_exceptions=False)


def test_package_version_differences_are_listed() -> None:
    def fake_details(packages: dict[str, str]) -> details.RunDetails:
        run = ent.Run(
            ent.RunInfo("r" * 32, "n", "0", "u", "FINISHED", 1, 2, "runs:/x", "active"), ent.RunData()
        )
        env = {"python": {"version": "3.11.7"}, "platform": {"system": "Linux"}, "packages": packages}
        return details.RunDetails(run, "Default", {}, env, None, [])

    result = details.compare(
        [
            fake_details({"numpy": "2.0", "torch": "2.5"}),
            fake_details({"numpy": "2.1", "torch": "2.5", "pandas": "3.0"}),
        ]
    )
    assert [(r.key, r.values) for r in result.packages] == [
        ("numpy", ["2.0", "2.1"]),
        ("pandas", [None, "3.0"]),
    ]
    assert [r.key for r in result.environment if r.differs] == ["packages"]


def test_experiments_ls(runs: dict[str, str]) -> None:
    client = MlflowClient()
    old = client.create_experiment("old")
    client.delete_experiment(old)
    out = run_cli("experiments", "ls").output
    assert "cli" in out and "Default" in out and "old" not in out
    assert "old" in run_cli("experiments", "ls", "--all").output
    data = json.loads(run_cli("experiments", "ls", "--json").output)
    assert {e["name"] for e in data} == {"cli", "Default"}
    rows = list(csv.DictReader(io.StringIO(run_cli("experiments", "ls", "--all", "--csv").output)))
    assert {r["name"]: r["lifecycle_stage"] for r in rows}["old"] == "deleted"
