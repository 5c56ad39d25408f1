"""``gitrun compare RUN RUN [RUN...]``: runs side by side, differences highlighted."""

from __future__ import annotations

from typing import Any

import click

from gitrun.cli import render
from gitrun.cli.context import cli_context
from gitrun.errors import InvalidParameterValue


def _rows_json(rows: Any) -> dict[str, Any]:
    return {row.key: {"values": row.values, "differs": row.differs} for row in rows}


def _section(title: str, rows: Any, headers: list[str], color: bool, *, empty: str) -> None:
    if not rows:
        render.console(color).print(f"{title}: {empty}")
        return
    cells = [[row.key, *(render.fmt_cell(v) for v in row.values)] for row in rows]
    marked = [i for i, row in enumerate(rows) if row.differs]
    right = list(range(1, len(headers) + 1)) if title.startswith("Metrics") else []
    render.print_table(["", *headers], cells, color=color, title=title, marked=marked, right=right)


@click.command("compare")
@click.argument("runs", nargs=-1, required=True)
@click.option("--json", "as_json", is_flag=True, help="JSON for scripts.")
@click.option("--all-rows", is_flag=True, help="Show rows that are the same in every run too.")
def compare(runs: tuple[str, ...], as_json: bool, all_rows: bool) -> int:
    """Compare two or more RUNS (ids or unique prefixes): params, metrics, code, environment.

    Rows whose values differ are highlighted (marked with * without colour).
    """
    from gitrun.tracking import details as det

    if len(runs) < 2:
        raise InvalidParameterValue("compare needs at least two runs")
    obj = cli_context()
    found = [det.run_details(obj.reader.store, r) for r in runs]
    result = det.compare(found)
    if as_json:
        render.write_json(
            {
                "runs": [{"run_id": d.run.info.run_id, "run_name": d.run.info.run_name} for d in found],
                "params": _rows_json(result.params),
                "metrics": _rows_json(result.metrics),
                "code": _rows_json(result.code),
                "environment": _rows_json(result.environment),
                "package_differences": _rows_json(result.packages),
            }
        )
        return 0
    headers = [f"{d.run.info.run_id[:8]} {d.run.info.run_name}" for d in found]

    def keep(rows: list[Any]) -> list[Any]:
        return rows if all_rows else [r for r in rows if r.differs]

    params, metrics = keep(result.params), keep(result.metrics)
    hidden = len(result.params) - len(params) + len(result.metrics) - len(metrics)
    _section("Params", params, headers, obj.color, empty="(same in every run)" if result.params else "(none)")
    _section(
        "Metrics (latest)",
        metrics,
        headers,
        obj.color,
        empty="(same in every run)" if result.metrics else "(none)",
    )
    if hidden:
        render.console(obj.color).print(
            f"({hidden} params/metrics with the same value everywhere; --all-rows shows them)"
        )
    _section("Code", result.code, headers, obj.color, empty="(not recorded)")
    _section("Environment", result.environment, headers, obj.color, empty="(not recorded)")
    _section("Package versions that differ", result.packages, headers, obj.color, empty="(none)")
    return 0
