"""``gitrun metrics RUN... [KEY...]``: metric series in long format (run, key, step, time, value)."""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import Any

import click

from gitrun.cli import render
from gitrun.cli.context import cli_context

_COLUMNS = ("run_id", "run_name", "key", "step", "timestamp", "time", "value")


def iso_time(ms: int) -> str:
    """``2026-12-05T23:10:00.123Z`` (UTC, for files); tables show local time."""
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(ms / 1000)) + f".{ms % 1000:03d}Z"


def local_time(ms: int) -> str:
    return render.fmt_time(ms) + f".{ms % 1000:03d}"


@click.command()
@click.argument("args", nargs=-1, required=True, metavar="RUN... [KEY...]")
@click.option("-k", "--key", "keys", multiple=True, help="A metric key (repeatable; default: every metric).")
@click.option("--children", is_flag=True, help="Also the runs' child runs (a sweep's trials).")
@click.option("--csv", "as_csv", is_flag=True, help="CSV: run_id,run_name,key,step,timestamp,time,value.")
@click.option("--json", "as_json", is_flag=True, help="JSON: a list of points.")
@click.option("-f", "--follow", is_flag=True, help="Keep printing new points while a run is RUNNING.")
@click.option(
    "--interval",
    type=click.FloatRange(min=0.1),
    default=2.0,
    show_default=True,
    help="--follow: seconds between checks.",
)
def metrics(
    args: tuple[str, ...],
    keys: tuple[str, ...],
    children: bool,
    as_csv: bool,
    as_json: bool,
    follow: bool,
    interval: float,
) -> int:
    """Print every point of the metric series of one or more runs, in long format.

    RUN is an id, a unique prefix, a name, latest or @~N; the arguments after the runs
    are metric keys (gitrun metrics @ @~1 val_loss). Times are local in the table,
    UTC ISO 8601 in CSV and JSON (plus the raw milliseconds in "timestamp").
    """
    from gitrun.cli.arguments import check_keys, runs_and_keys, with_children
    from gitrun.tracking.histories import long_rows

    output = render.output_format(csv=as_csv, json=as_json)
    if follow and output == "json":
        raise click.UsageError("--follow prints lines as they come: use it with the table or --csv")
    obj = cli_context()
    runs, wanted = runs_and_keys(obj, args, keys)
    if children:
        runs = with_children(obj, runs)
    check_keys(runs, wanted)
    points = list(long_rows(obj.reader, runs, wanted))
    if output == "json":
        render.write_json(
            [
                {
                    "run_id": p.run_id,
                    "run_name": p.run_name,
                    "key": p.key,
                    "step": p.step,
                    "timestamp": p.timestamp,
                    "time": iso_time(p.timestamp),
                    "value": p.value,
                }
                for p in points
            ]
        )
        return 0
    if output == "csv":
        render.write_csv(_COLUMNS, [_csv_row(p) for p in points])
        if follow:
            _follow(obj, runs, wanted, points, interval, csv=True)
        return 0
    if not points:
        click.echo("No points.")
    else:
        _table(obj, points, follow)
    if follow:
        _follow(obj, runs, wanted, points, interval, csv=False)
    return 0


def _csv_row(p: Any) -> list[Any]:
    return [p.run_id, p.run_name, p.key, p.step, p.timestamp, iso_time(p.timestamp), p.value]


def _cells(p: Any) -> list[str]:
    return [
        p.run_id[:8],
        render.display_text(p.run_name),
        render.display_text(p.key),
        str(p.step),
        local_time(p.timestamp),
        repr(p.value),
    ]


_TABLE = [
    render.Column("run", keep=True),
    render.Column("name", keep=True),
    render.Column("key", keep=True),
    render.Column("step", right=True, keep=True),
    render.Column("time", keep=True),
    render.Column("value", right=True, keep=True),
]


def _table(obj: Any, points: Sequence[Any], follow: bool) -> None:
    from gitrun.cli.pager import paged

    with paged(obj.pager and not follow):
        result = render.layout_table(_TABLE, [_cells(p) for p in points], width=obj.width, color=obj.color)
        for line in result.lines:
            click.echo(line)


def _follow(
    obj: Any, runs: Sequence[Any], keys: Sequence[str], seen: Sequence[Any], interval: float, *, csv: bool
) -> None:
    """Poll until no followed run is RUNNING, printing each new point once."""
    import sys

    from gitrun.tracking.histories import long_rows

    counts: dict[tuple[str, str], int] = {}
    for p in seen:
        counts[(p.run_id, p.key)] = counts.get((p.run_id, p.key), 0) + 1
    client = obj.reader
    live = [r for r in runs if r.info.status == "RUNNING"]
    if not live:
        click.echo("(no run is RUNNING: nothing to follow)", err=True)
        return
    while live:
        time.sleep(interval)
        current = [client.get_run(r.info.run_id) for r in live]
        fresh: dict[tuple[str, str], list[Any]] = {}
        for p in long_rows(client, current, keys):
            fresh.setdefault((p.run_id, p.key), []).append(p)
        for ident, series in fresh.items():
            new = series[counts.get(ident, 0) :]
            counts[ident] = len(series)
            for p in new:
                if csv:
                    render.write_csv(None, [_csv_row(p)])
                else:
                    click.echo("  ".join(_cells(p)))
        sys.stdout.flush()
        live = [r for r in current if r.info.status == "RUNNING"]
    click.echo("(every followed run has ended)", err=True)
