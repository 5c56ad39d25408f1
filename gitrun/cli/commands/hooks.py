"""``gitrun hooks install|uninstall|run``."""

from __future__ import annotations

import os

import click


def _work_tree() -> str:
    from gitrun.errors import GitrunError
    from gitrun.tracking.repository import work_tree

    found = work_tree(os.getcwd())
    if found is None:
        raise GitrunError("git hooks need a repository with a work tree: run this inside one")
    return found


@click.group()
def hooks() -> None:
    """Git hooks that share runs on `git push` and link runs to new commits."""


@hooks.command()
def install() -> int:
    """Install the pre-push and post-commit hooks (existing hooks keep running first)."""
    from gitrun.hooks import install as inst

    for change in inst.install(_work_tree()):
        if change.action == "note":
            click.echo(f"note: {change.advice}")
            continue
        note = " (your existing hook runs first)" if change.action == "chained" else ""
        click.echo(f"{change.hook}: {change.action} {change.path}{note}")
        if change.advice:
            click.echo(f"  {change.advice}")
    return 0


@hooks.command()
def uninstall() -> int:
    """Remove gitrun's hooks, restoring any hook they were chained to."""
    from gitrun.hooks import install as inst

    for change in inst.uninstall(_work_tree()):
        click.echo(f"{change.hook}: {change.action}")
    return 0


@hooks.command("run", context_settings={"ignore_unknown_options": True})
@click.argument("hook")
@click.argument("args", nargs=-1, type=click.UNPROCESSED)
def run_hook(hook: str, args: tuple[str, ...]) -> int:
    """Run one hook by hand (what the installed shims and pre-commit call)."""
    from gitrun.hooks.run import main

    return main([hook, *args]) if hook else 2
