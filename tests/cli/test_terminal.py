"""gitrun on a real terminal (a pseudo-terminal): fitted tables, the pager, colours."""

from __future__ import annotations

from pathlib import Path

import pytest

import gitrun
from tests.cli.terminal import run_on_terminal, visible


@pytest.fixture
def wide_runs(in_repo: Path) -> list[tuple[str, str]]:
    """Six runs with 40 params and 30 metrics each, all varying, and long names."""
    gitrun.set_experiment("wide")
    found = []
    for i in range(6):
        with gitrun.start_run(run_name=f"resnet50-lr-sweep-trial-{i:02d}") as run:
            gitrun.log_params({f"hyperparameter_{k:02d}": f"value-{i}-{k}" for k in range(40)})
            gitrun.log_metrics({f"validation_metric_{k:02d}": i * 0.01 + k for k in range(30)})
            found.append((run.info.run_id, run.info.run_name))
    gitrun.flush()
    return found


@pytest.mark.parametrize("columns", [80, 200])
def test_runs_ls_never_wraps_ids_names_or_headers(
    wide_runs: list[tuple[str, str]], in_repo: Path, columns: int
) -> None:
    code, out = run_on_terminal(in_repo, ["--no-pager", "runs", "ls", "-e", "wide"], columns=columns)
    assert code == 0, out
    lines = [visible(line) for line in out.splitlines() if line.strip()]
    assert all(len(line) <= columns for line in lines), max(lines, key=len)
    header = lines[0].split()
    assert header[:5] == ["run", "name", "status", "started", "duration"]
    assert all(
        word.endswith("…")
        or word in ("run", "name", "status", "started", "duration")
        or word.startswith(("hyperparameter_", "validation_metric_"))
        for word in header
    )
    for run_id, name in wide_runs:
        row = next(line for line in lines if line.startswith(run_id[:8]))
        assert f"{run_id[:8]}  {name}  FINISHED" in row  # id, name, status whole on one line
    assert lines[-2] == "6 runs"
    assert lines[-1].startswith("(") and "more columns do not fit" in lines[-1]
    if columns == 200:
        assert len(header) > 8  # a wide terminal shows more columns


def test_long_output_goes_through_the_pager(wide_runs: list[tuple[str, str]], in_repo: Path) -> None:
    pager = {"GITRUN_PAGER": "sed 's/^/PAGED:/'"}
    code, out = run_on_terminal(in_repo, ["runs", "ls", "-e", "wide"], columns=120, env=pager)
    assert code == 0, out
    lines = [visible(line) for line in out.splitlines() if line.strip()]
    assert lines and all(line.startswith("PAGED:") for line in lines)
    code, out = run_on_terminal(in_repo, ["--no-pager", "runs", "ls", "-e", "wide"], columns=120, env=pager)
    assert code == 0 and "PAGED:" not in out and "resnet50-lr-sweep-trial-00" in out


def test_core_pager_and_pager_variables(wide_runs: list[tuple[str, str]], in_repo: Path) -> None:
    import subprocess

    subprocess.run(["git", "config", "core.pager", "sed 's/^/CORE:/'"], cwd=in_repo, check=True)
    code, out = run_on_terminal(in_repo, ["show", "@"], columns=120, env={"PAGER": "sed 's/^/ENV:/'"})
    assert code == 0, out
    assert visible(out).startswith("CORE:Run ")  # git's core.pager wins over PAGER, as in git
    subprocess.run(["git", "config", "--unset", "core.pager"], cwd=in_repo, check=True)
    code, out = run_on_terminal(in_repo, ["show", "@"], columns=120, env={"PAGER": "sed 's/^/ENV:/'"})
    assert visible(out).startswith("ENV:Run ")
    code, out = run_on_terminal(in_repo, ["show", "@"], columns=120, env={"PAGER": "cat"})
    assert visible(out).startswith("Run ")


def test_colour_on_a_terminal_unless_no_color(wide_runs: list[tuple[str, str]], in_repo: Path) -> None:
    code, out = run_on_terminal(in_repo, ["--no-pager", "runs", "ls", "-e", "wide"], columns=120)
    assert code == 0 and "\x1b[1m" in out
    code, out = run_on_terminal(
        in_repo, ["--no-pager", "runs", "ls", "-e", "wide"], columns=120, env={"NO_COLOR": "1"}
    )
    assert code == 0 and "\x1b[" not in out and "resnet50-lr-sweep-trial-00" in out
