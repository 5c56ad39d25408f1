"""``gitrun compare RUN RUN [RUN...]``: runs side by side, differences highlighted."""

from __future__ import annotations

import math
from typing import Any

import click

from gitrun.cli import render
from gitrun.cli.context import cli_context
from gitrun.errors import InvalidParameterValue


def _rows_json(rows: Any) -> dict[str, Any]:
    return {row.key: {"values": row.values, "differs": row.differs} for row in rows}


def change(first: Any, last: Any) -> str:
    """``+0.012 (+1.3%)`` from the first run's value to the last one's; empty when not numbers."""
    try:
        a, b = float(first), float(last)
    except (TypeError, ValueError):
        return ""
    if math.isnan(a) or math.isnan(b) or a == b:
        return ""
    delta = b - a
    text = f"{delta:+.4g}"
    if a != 0 and math.isfinite(a):
        text += f" ({delta / abs(a) * 100:+.1f}%)"
    return text


def _section(
    title: str, rows: list[list[str]], headers: list[str], *, marked: list[int], numeric: bool
) -> None:
    obj = cli_context()
    cols = [render.Column(""), *(render.Column(h, right=numeric) for h in headers)]
    render.print_table(cols, rows, color=obj.color, title=title, marked=marked)


@click.command("compare")
@click.argument("runs", nargs=-1)
@click.option("--json", "as_json", is_flag=True, help="JSON for scripts.")
@click.option("--md", "as_md", is_flag=True, help="Markdown tables (for pull requests).")
@click.option("--all-rows", is_flag=True, help="Show rows that are the same in every run too.")
def compare(runs: tuple[str, ...], as_json: bool, as_md: bool, all_rows: bool) -> int:
    """Compare two or more RUNS: params, metrics (last, min, max, curve, change from the
    first run to the last), code, environment. RUNS may also come on stdin, one per line
    (gitrun runs ls -q ... | gitrun compare).

    Rows whose values differ are highlighted (marked with * without colour).
    """
    import sys

    from gitrun.cli.pager import paged
    from gitrun.tracking import details as det
    from gitrun.tracking import histories

    output = render.output_format(json=as_json, md=as_md)
    names = list(runs)
    if not names and not sys.stdin.isatty():
        names = [line.strip() for line in sys.stdin if line.strip()]
    if len(names) < 2:
        raise InvalidParameterValue("compare needs at least two runs (ids, prefixes, names, latest, @~N)")
    obj = cli_context()
    found = [det.run_details(obj.reader.store, obj.run_id(r)) for r in names]
    result = det.compare(found)
    histories_of = [
        {k: histories.history(obj.reader, d.run, k) for k in sorted(d.run.data.metrics)} for d in found
    ]
    summaries = [
        {k: s for k, h in per_run.items() if (s := histories.summarize(k, h)) is not None}
        for per_run in histories_of
    ]
    series = [{k: [m.value for m in h] for k, h in per_run.items()} for per_run in histories_of]
    if output == "json":
        render.write_json(
            {
                "runs": [{"run_id": d.run.info.run_id, "run_name": d.run.info.run_name} for d in found],
                "params": _rows_json(result.params),
                "metrics": _rows_json(result.metrics),
                "metric_summaries": [{k: vars(s) for k, s in m.items()} for m in summaries],
                "code": _rows_json(result.code),
                "environment": _rows_json(result.environment),
                "package_differences": _rows_json(result.packages),
            }
        )
        return 0
    headers = [f"{d.run.info.run_id[:8]} {render.display_text(d.run.info.run_name)}" for d in found]

    def keep(rows: list[Any]) -> list[Any]:
        return rows if all_rows else [r for r in rows if r.differs]

    params, metrics = keep(result.params), keep(result.metrics)
    hidden = len(result.params) - len(params) + len(result.metrics) - len(metrics)
    param_rows = [[render.display_text(r.key), *(render.fmt_cell(v) for v in r.values)] for r in params]
    metric_rows, metric_marks = _metric_rows(metrics, summaries, series)
    param_cells = [[*r, change(p.values[0], p.values[-1])] for r, p in zip(param_rows, params)]
    if output == "md":
        for title, rows in (("Params", param_cells), ("Metrics", metric_rows)):
            if not rows:
                click.echo(f"**{title}**: the same in every run\n")
                continue
            click.echo(f"**{title}**\n")
            render.write_markdown(["", *headers, "change"], rows)
            click.echo()
        return 0
    with paged(obj.pager):
        if param_rows:
            _section(
                "Params",
                param_cells,
                [*headers, "change"],
                marked=[i for i, r in enumerate(params) if r.differs],
                numeric=False,
            )
        else:
            click.echo("Params: " + ("(same in every run)" if result.params else "(none)"))
        if metric_rows:
            _section("Metrics", metric_rows, [*headers, "change"], marked=metric_marks, numeric=True)
        else:
            click.echo("Metrics: " + ("(same in every run)" if result.metrics else "(none)"))
        if hidden:
            click.echo(f"({hidden} params/metrics with the same value everywhere; --all-rows shows them)")
        for title, found_rows, empty in (
            ("Code", result.code, "(not recorded)"),
            ("Environment", result.environment, "(not recorded)"),
            ("Package versions that differ", result.packages, "(none)"),
        ):
            if not found_rows:
                click.echo(f"{title}: {empty}")
                continue
            cells = [
                [render.display_text(r.key), *(render.fmt_cell(v) for v in r.values)] for r in found_rows
            ]
            marks = [i for i, r in enumerate(found_rows) if r.differs]
            _section(title, cells, headers, marked=marks, numeric=False)
    return 0


def _metric_rows(
    metrics: list[Any], summaries: list[dict[str, Any]], series: list[dict[str, list[float]]]
) -> tuple[list[list[str]], list[int]]:
    """Per metric: its last values and the change, then min, max and the curve."""
    rows: list[list[str]] = []
    marks: list[int] = []
    for row in metrics:
        key = row.key
        if row.differs:
            marks.append(len(rows))
        last = [render.fmt_cell(v) for v in row.values]
        rows.append([render.display_text(key), *last, change(row.values[0], row.values[-1])])
        per_run = [s.get(key) for s in summaries]
        if not any(s is not None and s.points > 1 for s in per_run):
            continue
        rows.append(
            [
                "  min @step",
                *(f"{render.fmt_value(s.minimum)} @{s.min_step}" if s else "" for s in per_run),
                "",
            ]
        )
        rows.append(
            [
                "  max @step",
                *(f"{render.fmt_value(s.maximum)} @{s.max_step}" if s else "" for s in per_run),
                "",
            ]
        )
        rows.append(["  curve", *(render.sparkline(h.get(key, []), 16) for h in series), ""])
    return rows, marks
