"""``gitrun plot RUN... KEY... [--png FILE]``: metric curves overlaid, in the terminal or a PNG."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import click

from gitrun.cli import render
from gitrun.cli.context import cli_context
from gitrun.errors import GitrunError


@click.command("plot")
@click.argument("args", nargs=-1, required=True, metavar="RUN... KEY...")
@click.option("-k", "--key", "keys", multiple=True, help="A metric key (repeatable).")
@click.option("--children", is_flag=True, help="Plot the runs' child runs too (a sweep's trials).")
@click.option(
    "--png", "png", type=click.Path(dir_okay=False), help="Write a PNG here instead (needs matplotlib)."
)
@click.option(
    "--x",
    "x_axis",
    type=click.Choice(["step", "time"]),
    default="step",
    show_default=True,
    help="x axis: the step, or seconds since each run started.",
)
@click.option("--width", type=click.IntRange(min=20), help="Columns (terminal) or pixels/100 (PNG).")
@click.option("--height", type=click.IntRange(min=5), help="Rows (terminal) or pixels/100 (PNG).")
def plot(
    args: tuple[str, ...],
    keys: tuple[str, ...],
    children: bool,
    png: str | None,
    x_axis: str,
    width: int | None,
    height: int | None,
) -> int:
    """Draw the curves of metric KEYs of one or more RUNs, overlaid: in the terminal
    (needs plotext: pip install 'gitrun[plot]') or, with --png FILE, as an image.

    Example: gitrun plot @ @~1 val_loss train_loss
    """
    from gitrun.cli.arguments import check_keys, runs_and_keys, with_children
    from gitrun.tracking.histories import curves

    obj = cli_context()
    runs, wanted = runs_and_keys(obj, args, keys)
    if children:
        runs = with_children(obj, runs)
    if not wanted:
        present = sorted({k for r in runs for k in r.data.metrics})
        raise click.UsageError(
            "name the metric(s) to plot after the runs"
            + (
                f", e.g. gitrun plot {args[0]} {present[0]} (metrics: {', '.join(present[:10])})"
                if present
                else ""
            )
        )
    check_keys(runs, wanted)
    found = curves(obj.reader, runs, wanted, x_axis=x_axis)
    if png:
        write_png(found, png, x_axis=x_axis, size=(width or 10, height or 6))
        click.echo(f"wrote {png} ({len(found)} curve{'s' if len(found) != 1 else ''})")
        return 0
    size = (width or (obj.width or 100), height or 24)
    click.echo(terminal_plot(found, size=size, color=obj.color, x_axis=x_axis))
    return 0


def _labels(found: Sequence[Any]) -> list[str]:
    runs = {c.run_id for c in found}
    keys = {c.key for c in found}
    out = []
    for c in found:
        parts = []
        if len(runs) > 1:
            parts.append(f"{render.display_text(c.run_name)} ({c.run_id[:6]})")
        if len(keys) > 1 or not parts:
            parts.append(render.display_text(c.key))
        out.append(" ".join(parts))
    return out


def _title(found: Sequence[Any]) -> str:
    keys = list(dict.fromkeys(c.key for c in found))
    runs = list(dict.fromkeys((c.run_id, c.run_name) for c in found))
    title = ", ".join(render.display_text(k) for k in keys)
    if len(runs) == 1:
        title += f" of {render.display_text(runs[0][1])} ({runs[0][0][:8]})"
    return title


def terminal_plot(found: Sequence[Any], *, size: tuple[int, int], color: bool, x_axis: str) -> str:
    """The curves drawn with plotext, as text (ANSI colours only when ``color``)."""
    try:
        import plotext
    except ImportError:
        raise GitrunError(
            "terminal plots need plotext: pip install 'gitrun[plot]' (or use --png FILE)"
        ) from None
    fig = plotext.figure
    fig.clear()
    fig.plot_size(*size)
    fig.theme("default" if color else "colorless")
    fig.title(_title(found))
    for curve, label in zip(found, _labels(found)):
        signal = fig.signal(curve.x, curve.y)
        signal.lines()
        if len(found) > 1:
            signal.label(label)
        fig.draw(signal)
    fig.label("step" if x_axis == "step" else "seconds since start", "x")
    text = str(fig.build())
    fig.clear()
    return text if color else str(plotext.uncolorize(text))


def write_png(found: Sequence[Any], path: str, *, x_axis: str, size: tuple[int, int]) -> None:
    """The curves as a PNG file (matplotlib's Agg backend; written atomically)."""
    import os
    import tempfile

    try:
        import matplotlib

        matplotlib.use("Agg", force=True)
        from matplotlib.figure import Figure
    except ImportError:
        raise GitrunError("--png needs matplotlib: pip install 'gitrun[plot]'") from None
    figure = Figure(figsize=size, dpi=100)
    axes = figure.add_subplot()
    for curve, label in zip(found, _labels(found)):
        axes.plot(curve.x, curve.y, label=label, linewidth=1.2)
    axes.set_title(_title(found))
    axes.set_xlabel("step" if x_axis == "step" else "seconds since start")
    axes.grid(True, alpha=0.3)
    if len(found) > 1:
        axes.legend(fontsize="small")
    folder = os.path.dirname(os.path.abspath(path))
    fd, tmp = tempfile.mkstemp(prefix=".gitrun-plot-", suffix=".png", dir=folder)
    os.close(fd)
    try:
        figure.savefig(tmp, format="png")
        os.replace(tmp, path)
    except BaseException:
        os.unlink(tmp)
        raise
