"""`gitrun plot` (terminal and PNG) and `gitrun diff` (code, params, environment)."""

from __future__ import annotations

import math
import os
from pathlib import Path

import pytest
from click.testing import CliRunner

import gitrun
from gitrun.cli.commands.plot import terminal_plot
from gitrun.cli.main import cli
from gitrun.errors import GitrunError, InvalidParameterValue
from gitrun.tracking.histories import Curve
from tests.cli.test_runs_cli import run_cli

SNAPSHOTS = Path(__file__).parent / "snapshots"


@pytest.fixture
def curves(in_repo: Path) -> dict[str, str]:
    ids = {}
    for name, rate in (("fast", 0.5), ("slow", 0.1)):
        with gitrun.start_run(run_name=name) as run:
            for step in range(40):
                gitrun.log_metric("val_loss", math.exp(-rate * step), step=step)
                gitrun.log_metric("train_loss", math.exp(-rate * step) * 0.9, step=step)
            ids[name] = run.info.run_id
    gitrun.flush()
    return ids


def test_terminal_plot_matches_its_snapshot() -> None:
    """Fixed data and size: the drawing itself is checked, character for character."""
    xs = [float(s) for s in range(20)]
    found = [
        Curve("a" * 32, "fast", "val_loss", xs, [math.exp(-0.5 * s) for s in range(20)]),
        Curve("b" * 32, "slow", "val_loss", xs, [math.exp(-0.1 * s) for s in range(20)]),
    ]
    text = terminal_plot(found, size=(70, 18), color=False, x_axis="step")
    snapshot = SNAPSHOTS / "plot_two_runs.txt"
    if os.environ.get("GITRUN_UPDATE_SNAPSHOTS") == "1":  # then review the change like code
        snapshot.write_text(text + "\n", encoding="utf-8")
    assert text + "\n" == snapshot.read_text(encoding="utf-8")
    assert "val_loss" in text and "fast (aaaaaa)" in text and "slow (bbbbbb)" in text


def test_plot_in_the_terminal(curves: dict[str, str]) -> None:
    out = run_cli("plot", "fast", "slow", "val_loss", "--width", "80", "--height", "20").output
    lines = out.splitlines()
    assert len([line for line in lines if line.strip()]) >= 18 and all(len(line) <= 80 for line in lines)
    assert "val_loss" in lines[0] and "fast (" in out and "slow (" in out and "step" in out
    assert "\x1b[" not in out


def test_plot_png_is_a_real_image(curves: dict[str, str], tmp_path: Path) -> None:
    from PIL import Image

    target = tmp_path / "loss.png"
    out = run_cli("plot", "@~1", "@", "val_loss", "-k", "train_loss", "--png", str(target)).output
    assert out.strip() == f"wrote {target} (4 curves)"
    with Image.open(target) as image:
        assert image.format == "PNG" and image.size == (1000, 600)
        colors = image.convert("RGB").getcolors(maxcolors=1_000_000)
        assert colors is not None and len(colors) > 50  # curves, axes, text: not a blank canvas
    assert not list(tmp_path.glob(".gitrun-plot-*"))  # written atomically, nothing left over


def test_plot_mistakes(curves: dict[str, str]) -> None:
    with pytest.raises(
        InvalidParameterValue, match=r"no metric 'val_los' in any of the runs; did you mean val_loss\?"
    ):
        run_cli("plot", "fast", "slow", "val_los")
    result = CliRunner().invoke(cli, ["plot", "fast"], catch_exceptions=False)
    assert result.exit_code == 2 and "name the metric(s) to plot" in result.output


def test_diff_shows_the_code_difference_through_git(in_repo: Path) -> None:
    with gitrun.start_run(run_name="before") as a:
        gitrun.log_params({"lr": 0.1, "depth": 3})
    (in_repo / "train.py").write_text("print('changed')\n")
    (in_repo / "notes.md").write_text("new file\n")
    with gitrun.start_run(run_name="after") as b:
        gitrun.log_params({"lr": 0.01, "depth": 3})
    gitrun.flush()
    out = run_cli("diff", "before", "after").output
    assert "-print('train')" in out and "+print('changed')" in out and "+new file" in out
    limited = run_cli("diff", a.info.run_id[:8], b.info.run_id[:8], "--", "notes.md").output
    assert "notes.md" in limited and "train.py" not in limited
    assert run_cli("diff", "before", "after", "--name-only").output.split() == ["notes.md", "train.py"]
    params = run_cli("diff", "before", "after", "--params").output.splitlines()
    assert params[0].split()[0] == "key" and params[1].split() == ["lr", "0.1", "0.01"]
    assert len(params) == 2  # depth is the same in both
    assert run_cli("diff", "before", "before", "--env").output.startswith("Same environment in ")
    colored = run_cli("--color", "diff", "before", "after").output
    assert "\x1b[" in colored  # git's colours, when asked for


def test_diff_of_a_run_without_code(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)  # outside any git work tree: no code is recorded
    store = tmp_path / "store"
    gitrun.set_tracking_uri(str(store))
    with gitrun.start_run(run_name="a"):
        pass
    with gitrun.start_run(run_name="b"):
        pass
    gitrun.flush()
    with pytest.raises(GitrunError, match="recorded no code"):
        CliRunner().invoke(cli, ["--tracking-uri", str(store), "diff", "a", "b"], catch_exceptions=False)


def test_compare_as_markdown_with_a_change_column(curves: dict[str, str]) -> None:
    md = run_cli("compare", "fast", "slow", "--md").output
    head = f"|  | {curves['fast'][:8]} fast | {curves['slow'][:8]} slow | change |"
    assert md.count(head) == 1 and "**Metrics**" in md and "**Params**: the same in every run" in md
    cells = [
        c.strip()
        for c in next(line for line in md.splitlines() if line.startswith("| val_loss |")).split("|")
    ]
    assert len(cells) == 6 and cells[4].startswith("+0.02024")  # exp(-3.9) - exp(-19.5), last minus first
    assert next(line for line in md.splitlines() if "min @step" in line).endswith("|  |")  # no change there
