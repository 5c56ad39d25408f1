"""``gitrun checkout RUN`` and ``gitrun reproduce RUN``."""

from __future__ import annotations

from typing import TYPE_CHECKING

import click

from gitrun.cli.context import cli_context

if TYPE_CHECKING:
    from gitrun.tracking.client import Client
    from gitrun.tracking.reproduce import Checkout


def _echo_checkout(checkout: object) -> None:
    from gitrun.tracking.reproduce import SIDECAR, Checkout

    assert isinstance(checkout, Checkout)
    run = checkout.run
    click.echo(f"Checked out the code of run {run.info.run_id} ({run.info.run_name}) in {checkout.directory}")
    click.echo(
        f"  commit {checkout.commit[:12]} = {checkout.base_commit or '(no commit)'}"
        f"{' + uncommitted changes' if checkout.run.record.get('code', {}).get('dirty') else ''}"
    )
    click.echo(f"  params: {checkout.directory}/{SIDECAR}/params.json")
    for path in checkout.inputs:
        click.echo(f"  input restored (verified): {path}")
    click.echo(f"  packages: {checkout.directory}/{SIDECAR}/requirements.txt")
    if checkout.command:
        from gitrun.tracking.display import shell_join, shell_quote

        click.echo(f"  started as: (cd {shell_quote(checkout.cwd)} && {shell_join(checkout.command)})")
    else:
        click.echo("  started as: (no command recorded: the run was not started from a script)")
    if checkout.environment_changes:
        click.echo(f"  environment differs from the run's in {len(checkout.environment_changes)} place(s):")
        for what, then, now in checkout.environment_changes[:25]:
            click.echo(f"    {what}: {then or '(absent)'} -> {now or '(absent)'}")
        if len(checkout.environment_changes) > 25:
            click.echo(f"    ... and {len(checkout.environment_changes) - 25} more")
    else:
        click.echo("  environment: same Python, platform and packages as the run")


def checkout_or_reuse(client: Client, run_id: str, directory: str | None) -> Checkout:
    """The run's worktree: the existing one at that folder if it holds this run, else a new one."""
    from gitrun.tracking import reproduce

    reused = reproduce.reuse_checkout(client, run_id, directory)
    if reused is not None:
        click.echo(f"Reusing the worktree of run {run_id[:8]} in {reused.directory}")
        return reused
    return reproduce.checkout(client, run_id, directory)


@click.command("checkout")
@click.argument("run_id", required=False)
@click.option("--dir", "directory", type=click.Path(file_okay=False), help="Folder of the new worktree.")
@click.option("--prune", is_flag=True, help="Remove the worktrees gitrun checked out (not edited ones).")
@click.option("--force", is_flag=True, help="With --prune: also worktrees whose tracked files were edited.")
def checkout_cmd(run_id: str | None, directory: str | None, prune: bool, force: bool) -> int:
    """Check out a run's exact code (commit + uncommitted changes) in a git worktree (the
    run's existing one is reused); --prune removes gitrun's worktrees."""
    from gitrun.tracking import reproduce

    obj = cli_context()
    client = obj.client
    if prune:
        if run_id is not None:
            raise click.UsageError("--prune removes every gitrun worktree: give no RUN")
        removed, kept = reproduce.prune_worktrees(client, force=force)
        for path in removed:
            click.echo(f"removed {path}")
        for path in kept:
            click.echo(f"kept {path} (tracked files were edited; --force removes it)", err=True)
        if not removed and not kept:
            click.echo("No gitrun worktrees.")
        return 0
    if run_id is None:
        raise click.UsageError("give a RUN to check out (or --prune)")
    _echo_checkout(checkout_or_reuse(client, obj.run_id(run_id), directory))
    return 0


@click.command("reproduce")
@click.argument("run_id")
@click.option("--dir", "directory", type=click.Path(file_okay=False), help="Folder of the new worktree.")
@click.option("--run", "execute", is_flag=True, help="Re-execute the recorded command as a new run.")
@click.option("--verify", is_flag=True, help="With --run: compare every metric with the original's.")
@click.option(
    "--tolerance",
    type=float,
    default=0.0,
    show_default=True,
    help="Largest absolute difference --verify accepts.",
)
def reproduce_cmd(run_id: str, directory: str | None, execute: bool, verify: bool, tolerance: float) -> int:
    """Reproduce a run: its code in a new worktree, its params and inputs; optionally
    re-run it (--run) and check its metrics (--verify)."""
    from gitrun.tracking import reproduce

    if verify and not execute:
        raise click.UsageError("--verify needs --run")
    obj = cli_context()
    client = obj.client
    full = obj.run_id(run_id)
    # A nested run was made by its tree's script: re-running means re-running the
    # whole tree, and verifying means matching the new tree to the old one.
    root = reproduce.root_of(client, full)
    checkout = checkout_or_reuse(client, root, directory)
    _echo_checkout(checkout)
    if root != full:
        click.echo(f"  run {full[:8]} is nested under {root[:8]}: its whole tree is reproduced")
    if not execute:
        return 0
    result = reproduce.rerun(client, checkout)
    click.echo(f"Reproduction run {result.run_id}: {result.status} (exit code {result.returncode})")
    if not verify:
        return 0 if result.returncode == 0 else 1
    return _report(reproduce.verify_tree(client, root, result.run_id, tolerance), tolerance)


def _report(checks: list, tolerance: float) -> int:  # type: ignore[type-arg]
    from gitrun.cli import render

    obj = cli_context()
    rows = []
    for run in checks:
        label = f"{run.original_id[:8]} {render.display_text(run.original_name)}"
        if run.reproduced_id is None:
            rows.append([label, "(every metric)", "", "", "", "NOT REPRODUCED"])
            continue
        for check in run.metrics:
            rows.append(
                [
                    label,
                    render.display_text(check.key),
                    repr(check.original),
                    repr(check.reproduced),
                    f"{check.points[0]} / {check.points[1]}",
                    "same" if check.ok else "DIFFERENT",
                ]
            )
        if not run.metrics:
            rows.append([label, "(no metrics)", "", "", "", "same"])
    cols = [
        render.Column("run", keep=True),
        render.Column("metric"),
        render.Column("original", right=True),
        render.Column("reproduced", right=True),
        render.Column("points", right=True),
        render.Column("result", keep=True),
    ]
    render.print_table(
        cols,
        rows,
        color=obj.color,
        title=f"Metric series: original vs reproduction (tolerance {tolerance:g})",
    )
    series = sum(len(r.metrics) for r in checks)
    points = sum(c.points[0] for r in checks for c in r.metrics)
    missing = [r for r in checks if r.reproduced_id is None]
    failed = [f"{r.original_name}/{c.key}" for r in checks for c in r.metrics if not c.ok]
    if missing:
        names = ", ".join(r.original_name for r in missing)
        click.echo(f"gitrun: {len(missing)} run(s) of the tree were not reproduced: {names}", err=True)
    if failed:
        click.echo(f"gitrun: {len(failed)} metric series differ: {', '.join(failed[:10])}", err=True)
    if missing or failed:
        return 1
    click.echo(
        f"All metrics reproduced. Checked {len(checks)} run{'s' if len(checks) != 1 else ''}, "
        f"{series} series, {points:,} points."
    )
    return 0
