"""Tables for people: fitted to the terminal, never wrapped; leaderboards from `runs ls`."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

import gitrun
from gitrun.cli import render
from gitrun.errors import InvalidParameterValue, ResourceDoesNotExist
from tests.cli.test_runs_cli import run_cli


def test_layout_fits_the_width_cutting_with_an_ellipsis() -> None:
    cols = [
        render.Column("run", keep=True),
        render.Column("name", keep=True),
        render.Column("a_very_long_param_name"),
        render.Column("val_accuracy", right=True),
    ]
    rows = [["1af3c0de", "trusting-lark-739", "x" * 60, "0.9123"], ["9b2c0000", "short", "y", "1"]]
    wide = render.layout_table(cols, rows, width=None, color=False)
    assert wide.lines[1].startswith("1af3c0de  trusting-lark-739  " + "x" * 39 + "…")  # the cell limit (40)
    narrow = render.layout_table(cols, rows, width=50, color=False)
    assert all(len(line) <= 50 for line in narrow.lines)
    assert "trusting-lark-739" in narrow.lines[1] and "1af3c0de" in narrow.lines[1]  # kept whole
    assert "…" in narrow.lines[0]  # a long header is cut, never wrapped
    tiny = render.layout_table(cols, rows, width=30, color=False)
    assert tiny.hidden and all(len(line) <= 30 for line in tiny.lines)
    assert tiny.lines[1].startswith("1af3c0de  trusting-lark-739")


def test_sparkline_and_wide_characters() -> None:
    assert render.sparkline([0, 1, 2, 3, 4, 5, 6, 7]) == "▁▂▃▄▅▆▇█"
    assert render.sparkline([3, 3, 3]) == "▁▁▁"
    assert render.sparkline([float("nan")]) == ""
    assert len(render.sparkline(list(range(1000)), 12)) == 12
    assert render.truncate("日本語のラン名", 6) == "日本…" and render.cell_width("日本…") == 5
    assert render.truncate("abc", 3) == "abc"


def test_one_output_format_only() -> None:
    with pytest.raises(Exception, match="choose one output format, not --json and --csv"):
        render.output_format(json=True, csv=True, md=False)
    assert render.output_format(json=False, md=True) == "md"


@pytest.fixture
def sweep(in_repo: Path) -> dict[str, str]:
    """Two sweeps (nested runs) and a lone run; lr and seed vary, `data` does not."""
    gitrun.set_experiment("sweeps")
    ids: dict[str, str] = {}
    for sweep_name, base in (("sweep-a", 0.8), ("sweep-b", 0.6)):
        with gitrun.start_run(run_name=sweep_name) as parent:
            ids[sweep_name] = parent.info.run_id
            for i, lr in enumerate((0.1, 0.01)):
                with gitrun.start_run(run_name=f"{sweep_name}-{lr}", nested=True) as child:
                    gitrun.log_params({"lr": lr, "data": "v1", "seed": i})
                    for step in range(5):
                        gitrun.log_metric("val_acc", base + i * 0.1 - 0.1 / (step + 1), step=step)
                    ids[f"{sweep_name}-{lr}"] = child.info.run_id
    with gitrun.start_run(run_name="lone") as run:
        gitrun.log_params({"lr": 0.5, "data": "v1"})
        gitrun.log_metric("val_acc", 0.3)
        ids["lone"] = run.info.run_id
    gitrun.flush()
    return ids


def test_only_varying_columns_by_default(sweep: dict[str, str]) -> None:
    out = run_cli("runs", "ls", "-e", "sweeps").output
    header = out.splitlines()[0].split()
    assert "lr" in header and "seed" in header and "val_acc" in header and "data" not in header
    assert (
        out.splitlines()[-1] == "7 runs; 1 param/metric column(s) have one value in every run (--all-columns)"
    )
    every = run_cli("runs", "ls", "-e", "sweeps", "--all-columns").output
    assert "data" in every.splitlines()[0].split()


def test_tree_is_drawn_under_the_right_parent_or_not_at_all(sweep: dict[str, str]) -> None:
    out = run_cli("runs", "ls", "-e", "sweeps").output.splitlines()[1:-1]
    names = [" ".join(line.split()[1:3]) if line.split()[1] in "├└" else line.split()[1] for line in out]
    assert names == [
        "lone",
        "sweep-b",
        "├ sweep-b-0.1",
        "└ sweep-b-0.01",
        "sweep-a",
        "├ sweep-a-0.1",
        "└ sweep-a-0.01",
    ]
    board = run_cli("runs", "ls", "-e", "sweeps", "--order-by", "metrics.val_acc DESC").output
    assert "├" not in board and "└" not in board  # a leaderboard has no tree
    header = board.splitlines()[0].split()
    assert header[2] == "parent"  # says whose child each run is instead
    first = board.splitlines()[1].split()
    assert first[1:3] == ["sweep-a-0.01", "sweep-a"]
    # A child whose parent is filtered out is not drawn under some other run.
    only_children = run_cli("runs", "ls", "-e", "sweeps", "--filter", "params.seed = '1'").output
    assert "├" not in only_children and "└" not in only_children and "parent" in only_children


def test_footer_counts_what_the_limit_hides(sweep: dict[str, str]) -> None:
    out = run_cli("runs", "ls", "-e", "sweeps", "--limit", "2").output
    assert out.splitlines()[-1].startswith("2 of 7 runs (--limit)")


def test_quiet_ids_pipe_into_compare(sweep: dict[str, str], in_repo: Path) -> None:
    ids = run_cli("runs", "ls", "--parent", "sweep-a", "-q").output.split()
    assert sorted(ids) == sorted([sweep["sweep-a-0.1"], sweep["sweep-a-0.01"]])
    piped = subprocess.run(
        ["gitrun", "compare"], input="\n".join(ids), cwd=in_repo, capture_output=True, text=True, check=False
    )
    assert piped.returncode == 0, piped.stderr
    assert "sweep-a-0.1" in piped.stdout and "sweep-a-0.01" in piped.stdout


def test_best_child_per_sweep_and_groups(sweep: dict[str, str]) -> None:
    best = run_cli("runs", "ls", "-e", "sweeps", "--best-child", "metrics.val_acc DESC").output.splitlines()
    assert best[0].split()[:4] == ["sweep", "children", "best", "run"]
    rows = {line.split()[0]: line.split() for line in best[1:]}
    assert rows["sweep-a"][2:4] == [sweep["sweep-a-0.01"][:8], "sweep-a-0.01"] and rows["sweep-a"][1] == "2"
    assert rows["sweep-b"][3] == "sweep-b-0.01"
    worst = run_cli("runs", "ls", "-e", "sweeps", "--best-child", "metrics.val_acc ASC", "-q").output.split()
    assert sorted(worst) == sorted([sweep["sweep-a-0.1"], sweep["sweep-b-0.1"]])
    grouped = run_cli("runs", "ls", "-e", "sweeps", "--group-by", "params.lr", "--json").output
    groups = {g["lr"]: g for g in json.loads(grouped)}
    assert groups["0.1"]["runs"] == 2
    stats = groups["0.1"]["metrics"]["val_acc"]
    assert stats["count"] == 2 and stats["mean"] == pytest.approx((0.78 + 0.58) / 2)
    assert stats["std"] == pytest.approx(0.1414213, rel=1e-5)
    table = run_cli("runs", "ls", "-e", "sweeps", "--group-by", "lr").output
    assert "0.68 ± 0.1414" in table


def test_markdown_for_pull_requests(sweep: dict[str, str]) -> None:
    md = run_cli(
        "runs",
        "ls",
        "-e",
        "sweeps",
        "--md",
        "--order-by",
        "metrics.val_acc DESC",
        "--columns",
        "name,params.lr,metrics.val_acc",
    ).output
    lines = md.splitlines()
    assert lines[0] == "| name | lr | val_acc |" and lines[1] == "|---|---|---:|"
    assert lines[2] == "| sweep-a-0.01 | 0.01 | 0.88 |"


def test_sparkline_column(sweep: dict[str, str]) -> None:
    out = run_cli("runs", "ls", "--parent", sweep["sweep-a"][:8], "--spark", "val_acc").output
    assert "val_acc ~" in out.splitlines()[0]
    assert "▁▅▇██" in out  # 0.7, 0.75, 0.767, 0.775, 0.78: rising, then flat


def test_column_mistakes_are_errors_with_hints(sweep: dict[str, str]) -> None:
    with pytest.raises(
        InvalidParameterValue,
        match=r"no listed run has a metric named 'val_ac'; did you mean metrics\.val_acc",
    ):
        run_cli("runs", "ls", "--columns", "metrics.val_ac")
    with pytest.raises(
        InvalidParameterValue, match=r"no metric of the listed runs matches 'metrics\.loss_\*'"
    ):
        run_cli("runs", "ls", "--columns", "metrics.loss_*")
    globbed = run_cli("runs", "ls", "-e", "sweeps", "--columns", "name,params.*", "--csv").output
    assert globbed.splitlines()[0] == "run_name,params.data,params.lr,params.seed"
    with pytest.raises(InvalidParameterValue, match="no runs match: no run has a metric named 'nonexistent'"):
        run_cli("runs", "ls", "--filter", "metrics.nonexistent > 1")
    with pytest.raises(InvalidParameterValue, match=r"did you mean metrics\.val_acc"):
        run_cli("runs", "ls", "--filter", "val_acc > 0.9")
    assert (
        run_cli("runs", "ls", "--filter", "metrics.val_acc > 5").output.strip() == "No runs match the filter."
    )
    with pytest.raises(ResourceDoesNotExist, match="did you mean 'sweeps'"):
        run_cli("runs", "ls", "-e", "sweep")


def test_run_names_and_relative_names(sweep: dict[str, str]) -> None:
    show = run_cli("show", "lone", "--json").output
    assert json.loads(show)["run_id"] == sweep["lone"]
    assert json.loads(run_cli("show", "@", "--json").output)["run_id"] == sweep["lone"]
    # @~N is the N+1-th run of `runs ls` (newest first; runs started in the same
    # millisecond in the listing's own order).
    newest = run_cli("runs", "ls", "-q").output.split()
    assert newest[0] == sweep["lone"]
    assert json.loads(run_cli("show", "latest~1", "--json").output)["run_id"] == newest[1]
    assert json.loads(run_cli("show", "@~3", "--json").output)["run_id"] == newest[3]
    with pytest.raises(ResourceDoesNotExist, match="'@~99' needs at least 100 run"):
        run_cli("show", "@~99")
    with gitrun.start_run(run_name="lone"):
        pass
    with pytest.raises(InvalidParameterValue, match="2 runs are named 'lone'"):
        run_cli("show", "lone")


def test_fresh_clone_says_fetch(in_repo: Path) -> None:
    subprocess.run(["git", "remote", "add", "origin", "/nowhere.git"], cwd=in_repo, check=True)
    out = run_cli("runs", "ls").output
    assert "No runs yet. Runs recorded elsewhere come with `gitrun fetch origin`" in out


def test_color_only_when_asked(sweep: dict[str, str]) -> None:
    forced = run_cli("--color", "runs", "ls").output
    assert "\x1b[1m" in forced and "\x1b[32m" in forced  # bold header, green FINISHED
    assert "\x1b[" not in run_cli("runs", "ls").output
