"""``gitrun show RUN``: everything recorded about one run."""

from __future__ import annotations

import signal
from typing import Any

import click

from gitrun.cli import render
from gitrun.cli.commands.artifacts import fmt_size
from gitrun.cli.commands.runs import run_json
from gitrun.cli.context import cli_context
from gitrun.tracking.display import readable


def details_json(details: Any, summaries: dict[str, Any]) -> dict[str, Any]:
    from gitrun.tracking.code_state import code_state
    from gitrun.tracking.details import environment_summary

    state = code_state(details.run)
    return {
        **run_json(details.run),
        "experiment_name": details.experiment_name,
        "code": {
            **details.code,
            "commit": state.commit,
            "dirty": state.dirty,
            "recorded_commit": state.recorded_commit,
            "linked": state.linked,
        },
        "environment": environment_summary(details),
        "packages": details.packages,
        "parent_run_id": details.parent_run_id,
        "child_run_ids": details.child_run_ids,
        "metric_summaries": {k: vars(s) for k, s in summaries.items()},
        "artifacts": {path: entry.to_record() for path, entry in details.artifacts.items()},
        "inputs": {path: entry.to_record() for path, entry in details.inputs.items()},
    }


def status_text(run: Any) -> str:
    """``KILLED (SIGINT)``, ``FAILED (exit code 2)``."""
    status = str(run.info.status)
    code = run.data.tags.get("gitrun.exit_code")
    if code is None or status == "FINISHED":
        return status
    return f"{status} ({exit_text(int(code))})" if code.lstrip("-").isdigit() else status


def exit_text(code: int) -> str:
    if code < 0:
        try:
            return signal.Signals(-code).name
        except ValueError:
            return f"signal {-code}"
    return f"exit code {code}"


def _pairs(title: str, pairs: list[tuple[str, str]], color: bool) -> None:
    if not pairs:
        click.echo(f"{title}: (none)")
        return
    render.print_table(["key", "value"], [list(p) for p in pairs], color=color, title=title)


@click.command("show")
@click.argument("run")
@click.option("--json", "as_json", is_flag=True, help="JSON for scripts.")
def show(run: str, as_json: bool) -> int:
    """Show everything recorded about RUN (an id, unique prefix, name, latest or @~N)."""
    from gitrun.cli.pager import paged
    from gitrun.tracking import details as det
    from gitrun.tracking import histories

    obj = cli_context()
    details = det.run_details(obj.reader.store, obj.run_id(run))
    series = {k: histories.history(obj.reader, details.run, k) for k in sorted(details.run.data.metrics)}
    summaries = {k: s for k, h in series.items() if (s := histories.summarize(k, h)) is not None}
    if as_json:
        render.write_json(details_json(details, summaries))
        return 0
    with paged(obj.pager):
        _print(obj, details, summaries, {k: [m.value for m in h] for k, h in series.items()})
    return 0


def _print(obj: Any, details: Any, summaries: dict[str, Any], curves: dict[str, list[float]]) -> None:
    from gitrun.tracking import details as det
    from gitrun.tracking.code_state import code_state

    color = obj.color
    info = details.run.info
    click.echo(render.style(f"Run {info.run_id}  {render.display_text(info.run_name)}", color, bold=True))
    name = render.display_text(details.experiment_name) if details.experiment_name else None
    status = status_text(details.run)
    lines = [
        ("experiment", f"{name} ({info.experiment_id})" if name else info.experiment_id),
        (
            "status",
            render.style(status, color, fg=render.status_style(info.status)) + f" ({info.lifecycle_stage})",
        ),
        ("user", render.display_text(info.user_id)),
        ("started", render.fmt_time(info.start_time)),
        ("ended", render.fmt_time(info.end_time) or "(still running)"),
        ("duration", render.run_duration(details.run) + (" so far" if info.status == "RUNNING" else "")),
        ("artifact uri", info.artifact_uri),
    ]
    command = details.run.record.get("command")
    if command:
        import shlex

        lines.append(("command", render.display_text(shlex.join(str(a) for a in command))))
    for key, value in lines:
        click.echo(f"  {key:<13} {value}")

    if details.code:
        state = code_state(details.run)
        branch = render.display_text(state.branch) if state.branch else "(detached)"
        click.echo(f"Code: {state.describe()} on {branch}")
        for label in ("changed", "deleted"):
            for path in details.code.get(label) or []:
                click.echo(f"  {label:<8} {render.display_text(readable(path))}")
        for item in details.code.get("skipped") or []:
            if not isinstance(item, dict):
                continue  # a damaged or crafted record
            path, reason = (
                render.display_text(readable(item.get("path"))),
                render.display_text(item.get("reason")),
            )
            click.echo(f"  skipped  {path} ({reason})")
    else:
        click.echo("Code: (not recorded)")
    env = det.environment_summary(details)
    if details.environment:
        click.echo(
            f"Environment: Python {env['python']} ({env['implementation']}), {env['platform']}, "
            f"{env['packages']} packages"
        )
    else:
        click.echo("Environment: (not recorded)")

    data = details.run.data
    _pairs(
        "Params",
        [(render.display_text(k), render.display_text(v)) for k, v in sorted(data.params.items())],
        color,
    )
    _metrics(summaries, curves, color)
    _pairs(
        "Tags",
        [(render.display_text(k), render.display_text(v)) for k, v in sorted(data.tags.items())],
        color,
    )
    _relatives(obj, details)
    for title, entries in (("Artifacts", details.artifacts), ("Inputs", details.inputs)):
        if not entries:
            click.echo(f"{title}: (none)")
            continue
        rows = [
            [
                render.display_text(path) + ("/" if e.is_dir else ""),
                fmt_size(e.size) + (f", {e.files} files" if e.is_dir else ""),
                str(e.digest),
            ]
            for path, e in entries.items()
        ]
        render.print_table(
            [render.Column("path"), render.Column("size", right=True), render.Column("digest", keep=True)],
            rows,
            color=color,
            title=title,
        )


def _metrics(summaries: dict[str, Any], curves: dict[str, list[float]], color: bool) -> None:
    if not summaries:
        click.echo("Metrics: (none)")
        return
    cols = [
        render.Column("metric"),
        render.Column("last", right=True, keep=True),
        render.Column("step", right=True),
        render.Column("min @step", right=True, keep=True),
        render.Column("max @step", right=True, keep=True),
        render.Column("points", right=True),
        render.Column("curve", limit=16),
    ]
    rows = []
    for key, s in sorted(summaries.items()):
        curve = render.sparkline(curves[key], 16) if s.points > 1 else ""
        rows.append(
            [
                render.display_text(key),
                render.fmt_value(s.last),
                str(s.last_step),
                f"{render.fmt_value(s.minimum)} @{s.min_step}",
                f"{render.fmt_value(s.maximum)} @{s.max_step}",
                str(s.points),
                curve,
            ]
        )
    render.print_table(cols, rows, color=color, title="Metrics")


def _relatives(obj: Any, details: Any) -> None:
    client = obj.reader
    if details.parent_run_id:
        try:
            parent = client.get_run(details.parent_run_id)
            click.echo(f"Parent: {parent.info.run_id[:8]}  {render.display_text(parent.info.run_name)}")
        except Exception:  # noqa: BLE001 - a parent that is gone: its id is all there is
            click.echo(f"Parent: {details.parent_run_id} (not found)")
    else:
        click.echo("Parent: (none)")
    if not details.child_run_ids:
        click.echo("Children: (none)")
        return
    rows = []
    for child_id in details.child_run_ids:
        child = client.get_run(child_id)
        rows.append([child_id[:8], render.display_text(child.info.run_name), child.info.status])
    render.print_table(
        [render.Column("run", keep=True), render.Column("name", keep=True), render.Column("status")],
        rows,
        color=obj.color,
        title=f"Children ({len(rows)}; gitrun runs ls --parent {details.run.info.run_id[:8]})",
    )
