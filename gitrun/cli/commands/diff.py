"""``gitrun diff A B [-- PATH...]``: how two runs' code differs (git's diff), or params, environment."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import click

from gitrun.cli import render
from gitrun.cli.context import cli_context


@click.command("diff", context_settings={"ignore_unknown_options": False})
@click.argument("old")
@click.argument("new")
@click.argument("paths", nargs=-1, metavar="[-- PATH...]")
@click.option("--params", "what", flag_value="params", help="Params that differ, instead of the code.")
@click.option("--env", "what", flag_value="env", help="Python, platform and package versions that differ.")
@click.option("--stat", is_flag=True, help="Only a summary of changed files (git diff --stat).")
@click.option("--name-only", is_flag=True, help="Only the names of changed files.")
def diff(old: str, new: str, paths: tuple[str, ...], what: str | None, stat: bool, name_only: bool) -> int:
    """Show what changed from run OLD to run NEW: their code (each run's exact snapshot,
    uncommitted changes included, through git diff: git's colours and pager), or with
    --params / --env their params or environment. PATHs limit the code diff.
    """
    import os
    from dataclasses import replace

    from gitrun.cli.pager import pager_command
    from gitrun.tracking import details as det
    from gitrun.tracking import run_diff

    obj = cli_context()
    store = obj.reader.store
    a = det.run_details(store, obj.run_id(old))
    b = det.run_details(store, obj.run_id(new))
    if what == "params":
        return _print_changes(run_diff.changes(a.run.data.params, b.run.data.params), a, b, "params")
    if what == "env":
        return _print_changes(run_diff.environment_changes(a, b), a, b, "environment")
    options = [*(["--stat"] if stat else []), *(["--name-only"] if name_only else [])]
    color = obj.color_flag if obj.color_flag is not None else (False if os.environ.get("NO_COLOR") else None)
    command = run_diff.code_diff_command(store, a, b, paths, color=color, pager=obj.pager, options=options)
    env = dict(command.env)
    pager = os.environ.get("GITRUN_PAGER")
    if pager is not None:
        env["GIT_PAGER"] = pager_command() or "cat"
    import io
    import sys

    try:
        sys.stdout.fileno()
        direct = True
    except (io.UnsupportedOperation, AttributeError, ValueError):
        direct = False  # not a real file (a test runner): capture and echo
    sys.stdout.flush()
    code, out, err = replace(command, env=env).run(capture=not direct)
    if not direct:
        click.echo(out.decode("utf-8", "replace"), nl=False)
        click.echo(err.decode("utf-8", "replace"), nl=False, err=True)
    return 0 if code == 0 else 1


def _print_changes(found: Sequence[Any], a: Any, b: Any, what: str) -> int:
    obj = cli_context()
    if not found:
        click.echo(f"Same {what} in {a.run.info.run_id[:8]} and {b.run.info.run_id[:8]}.")
        return 0
    head = [
        "key",
        f"{a.run.info.run_id[:8]} {render.display_text(a.run.info.run_name)}",
        f"{b.run.info.run_id[:8]} {render.display_text(b.run.info.run_name)}",
    ]
    rows = [
        [
            render.display_text(c.key),
            "(absent)" if c.old is None else render.fmt_cell(c.old),
            "(absent)" if c.new is None else render.fmt_cell(c.new),
        ]
        for c in found
    ]
    render.print_table(head, rows, color=obj.color)
    return 0
