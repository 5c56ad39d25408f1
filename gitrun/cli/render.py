"""Printing tables for people (rich, colour only on a terminal) and for scripts."""

from __future__ import annotations

import math
from collections.abc import Sequence

from gitrun.tracking.entities import Run


def fmt_value(value: float) -> str:
    if math.isnan(value):
        return "nan"
    return f"{value:.4g}"


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
        table.add_column(key, style="cyan" if color else None)
    for key in metrics:
        table.add_column(key, justify="right", style="green" if color else None)
    for run in runs:
        name = run.info.run_name
        if "mlflow.parentRunId" in run.data.tags:
            name = "  └ " + name
        table.add_row(run.info.run_id[:8], name, run.info.status,
                      *(run.data.params.get(k, "") for k in params),
                      *(fmt_value(run.data.metrics[k]) if k in run.data.metrics else "" for k in metrics))
    Console(no_color=not color, width=None if color else 200).print(table)
