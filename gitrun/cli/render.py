"""Printing tables for people (rich, colour only on a terminal) and for scripts."""

from __future__ import annotations

import math
import re
import time
from collections.abc import Sequence
from typing import Any

import click

from gitrun.core.records.text import printable
from gitrun.tracking.entities import Run


def fmt_value(value: float) -> str:
    if math.isnan(value):
        return "nan"
    return f"{value:.4g}"


def fmt_time(ms: int | None) -> str:
    """Milliseconds since the epoch as local time (empty for None)."""
    if ms is None:
        return ""
    return time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(ms / 1000))


def fmt_duration(start: int | None, end: int | None) -> str:
    if start is None or end is None:
        return ""
    seconds = max(0, end - start) / 1000
    if seconds < 60:
        return f"{seconds:.1f}s"
    minutes, secs = divmod(int(seconds), 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours}h{minutes:02d}m" if hours else f"{minutes}m{secs:02d}s"


def fmt_cell(value: Any) -> str:
    """A value as table text: floats to 4 significant digits, None as empty."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        return fmt_value(value)
    return str(value)


def console(color: bool) -> Any:
    """A rich console on stdout: colour exactly when asked, full-width lines off a terminal."""
    import sys

    from rich.console import Console

    terminal = sys.stdout.isatty()

    class SafeConsole(Console):  # type: ignore[misc]
        """Strings printed are escaped (records may hold terminal control sequences)."""

        def print(self, *objects: Any, **kwargs: Any) -> None:
            super().print(*(printable(o) if isinstance(o, str) else o for o in objects), **kwargs)

    # Off a terminal (pipes, tests) rich would wrap at 80 columns: keep lines whole.
    # markup=False: recorded values are data, "[red]" in a param must print as is.
    return SafeConsole(
        force_terminal=color,
        no_color=not color,
        highlight=False,
        markup=False,
        width=None if terminal else 250,
        soft_wrap=not terminal,
    )


def print_table(
    columns: Sequence[str],
    rows: Sequence[Sequence[str]],
    *,
    color: bool,
    title: str | None = None,
    right: Sequence[int] = (),
    marked: Sequence[int] = (),
) -> None:
    """A rich table; ``marked`` rows are the ones to notice (bold on a terminal, ``*`` otherwise)."""
    from rich.table import Table

    table = Table(title=printable(title) if title else None, show_lines=False, title_justify="left")
    if marked and not color:
        table.add_column("")
    for i, name in enumerate(columns):
        table.add_column(printable(name), justify="right" if i in right else "left", overflow="fold")
    marks = set(marked)
    for i, row in enumerate(rows):
        cells = [printable(cell) for cell in row]
        if marked and not color:
            cells.insert(0, "*" if i in marks else "")
        table.add_row(*cells, style="bold yellow" if color and i in marks else None)
    console(color).print(table)


# Inside JSON strings: characters to write as \u escapes (json.dumps escapes C0 itself).
_JSON_UNSAFE = re.compile(
    "[\x7f-\x9f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069\ufeff\ud800-\udfff]"
)


def write_json(data: Any) -> None:
    """JSON on stdout; NaN and infinities as the strings "NaN", "Infinity", "-Infinity".

    Control characters, bidirectional controls and undecodable bytes (lone surrogates)
    in values are written as ``\\uXXXX`` escapes: valid JSON, exact, and inert on a terminal.
    """
    import json

    text = json.dumps(_finite(data), indent=2, ensure_ascii=False, allow_nan=False)
    click.echo(_JSON_UNSAFE.sub(lambda m: f"\\u{ord(m.group()):04x}", text))


def _finite(data: Any) -> Any:
    if isinstance(data, float) and not math.isfinite(data):
        return "NaN" if math.isnan(data) else ("Infinity" if data > 0 else "-Infinity")
    if isinstance(data, dict):
        return {str(k): _finite(v) for k, v in data.items()}
    if isinstance(data, (list, tuple)):
        return [_finite(v) for v in data]
    return data


def write_csv(columns: Sequence[str], rows: Sequence[Sequence[Any]]) -> None:
    import csv
    import io

    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(columns)
    for row in rows:
        writer.writerow(["" if v is None else repr(v) if isinstance(v, float) else v for v in row])
    click.echo(out.getvalue(), nl=False)


def print_runs(runs: Sequence[Run], *, color: bool, title: str | None = None) -> None:
    from rich.console import Console
    from rich.table import Table

    params = sorted({k for r in runs for k in r.data.params})
    metrics = sorted({k for r in runs for k in r.data.metrics})
    table = Table(title=title, show_lines=False)
    table.add_column("run")
    table.add_column("name")
    table.add_column("status")
    for key in params:
        table.add_column(printable(key), style="cyan" if color else None)
    for key in metrics:
        table.add_column(printable(key), justify="right", style="green" if color else None)
    for run in runs:
        name = printable(run.info.run_name)
        if "mlflow.parentRunId" in run.data.tags:
            name = "  └ " + name
        table.add_row(
            printable(run.info.run_id[:8]),
            name,
            printable(run.info.status),
            *(printable(run.data.params.get(k, "")) for k in params),
            *(fmt_value(run.data.metrics[k]) if k in run.data.metrics else "" for k in metrics),
        )
    Console(no_color=not color, width=None if color else 200).print(table)
