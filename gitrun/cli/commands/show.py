"""``gitrun show RUN``: everything recorded about one run."""

from __future__ import annotations

from typing import Any

import click

from gitrun.cli import render
from gitrun.cli.commands.artifacts import fmt_size
from gitrun.cli.commands.runs import run_json
from gitrun.cli.context import cli_context
from gitrun.core.records.text import readable


def details_json(details: Any) -> dict[str, Any]:
    from gitrun.tracking.details import environment_summary

    return {
        **run_json(details.run),
        "experiment_name": details.experiment_name,
        "code": details.code,
        "environment": environment_summary(details),
        "packages": details.packages,
        "parent_run_id": details.parent_run_id,
        "child_run_ids": details.child_run_ids,
        "artifacts": {path: entry.to_record() for path, entry in details.artifacts.items()},
        "inputs": {path: entry.to_record() for path, entry in details.inputs.items()},
    }


def _pairs(color: bool, title: str, pairs: list[tuple[str, str]]) -> None:
    if not pairs:
        render.console(color).print(f"{title}: (none)")
        return
    render.print_table(["key", "value"], [list(p) for p in pairs], color=color, title=title)


@click.command("show")
@click.argument("run")
@click.option("--json", "as_json", is_flag=True, help="JSON for scripts.")
def show(run: str, as_json: bool) -> int:
    """Show everything recorded about RUN (a run id or a unique prefix of one)."""
    from gitrun.tracking import details as det

    obj = cli_context()
    store = obj.reader.store
    details = det.run_details(store, run)
    if as_json:
        render.write_json(details_json(details))
        return 0
    info = details.run.info
    out = render.console(obj.color)
    out.print(f"Run {info.run_id}  {info.run_name}", style="bold" if obj.color else None)
    experiment = (
        f"{details.experiment_name} ({info.experiment_id})" if details.experiment_name else info.experiment_id
    )
    lines = [
        ("experiment", experiment),
        ("status", f"{info.status} ({info.lifecycle_stage})"),
        ("user", info.user_id),
        ("started", render.fmt_time(info.start_time)),
        ("ended", render.fmt_time(info.end_time) or "(still running)"),
        ("duration", render.fmt_duration(info.start_time, info.end_time)),
        ("artifact uri", info.artifact_uri),
    ]
    for key, value in lines:
        out.print(f"  {key:<13} {value}")

    code = details.code
    if code:
        state = "uncommitted changes recorded" if code.get("dirty") else "clean"
        out.print(
            f"Code: commit {code.get('commit') or '(none)'} on {code.get('branch') or '(detached)'}, {state}"
        )
        for label in ("changed", "deleted"):
            for path in code.get(label) or []:
                out.print(f"  {label:<8} {readable(path)}")
        for item in code.get("skipped") or []:
            if isinstance(item, dict):
                out.print(f"  skipped  {readable(item.get('path'))} ({readable(item.get('reason'))})")
    else:
        out.print("Code: (not recorded)")
    env = det.environment_summary(details)
    if details.environment:
        out.print(
            f"Environment: Python {env['python']} ({env['implementation']}), {env['platform']}, "
            f"{env['packages']} packages"
        )
    else:
        out.print("Environment: (not recorded)")

    data = details.run.data
    _pairs(obj.color, "Params", sorted(data.params.items()))
    _pairs(obj.color, "Metrics (latest)", [(k, render.fmt_cell(v)) for k, v in sorted(data.metrics.items())])
    _pairs(obj.color, "Tags", sorted(data.tags.items()))
    out.print(f"Parent: {details.parent_run_id or '(none)'}")
    out.print(f"Children: {', '.join(details.child_run_ids) if details.child_run_ids else '(none)'}")
    for title, entries in (("Artifacts", details.artifacts), ("Inputs", details.inputs)):
        if not entries:
            out.print(f"{title}: (none)")
            continue
        rows = [
            [
                path + ("/" if e.is_dir else ""),
                fmt_size(e.size) + (f", {e.files} files" if e.is_dir else ""),
                str(e.digest),
            ]
            for path, e in entries.items()
        ]
        render.print_table(["path", "size", "digest"], rows, color=obj.color, title=title)
    return 0
