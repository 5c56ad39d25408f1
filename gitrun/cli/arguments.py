"""Arguments several commands share: ``RUN... KEY...`` lists, resolved."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from gitrun.cli.context import CliContext
from gitrun.errors import GitrunError, InvalidParameterValue


def runs_and_keys(obj: CliContext, args: Sequence[str], keys: Sequence[str]) -> tuple[list[Any], list[str]]:
    """Split ``RUN... KEY...``: leading arguments that name runs are runs, the rest are
    metric keys (``-k KEY`` adds keys explicitly).  An argument that is a metric of the
    runs already named counts as a key even if a run has that name too."""
    client = obj.reader
    runs: list[Any] = []
    rest = list(args)
    while rest:
        word = rest[0]
        if runs and any(word in r.data.metrics for r in runs):
            break
        try:
            run_id = obj.run_id(word)
        except GitrunError:
            if not runs:
                raise
            break
        runs.append(client.get_run(run_id))
        rest.pop(0)
    if not runs:
        raise InvalidParameterValue("name at least one run (an id, prefix, name, latest or @~N)")
    return runs, [*rest, *keys]


def with_children(obj: CliContext, runs: Sequence[Any]) -> list[Any]:
    """Each run followed by its child runs (a sweep's trials)."""
    from gitrun.tracking import search

    out = []
    for run in runs:
        out.append(run)
        for child in search.child_run_ids(obj.reader.store, run.info.run_id):
            out.append(obj.reader.get_run(child))
    return out


def check_keys(runs: Sequence[Any], keys: Sequence[str]) -> None:
    """Every key must be a metric of at least one run, else a specific error with a hint."""
    import difflib

    present = sorted({k for r in runs for k in r.data.metrics})
    for key in keys:
        if key in present:
            continue
        bare = key.removeprefix("metrics.")
        if bare in present:
            raise InvalidParameterValue(f"metric keys are given without 'metrics.': use {bare}")
        close = difflib.get_close_matches(key, present, n=1)
        which = "the run" if len(runs) == 1 else "any of the runs"
        raise InvalidParameterValue(
            f"no metric '{key}' in {which}"
            + (f"; did you mean {close[0]}?" if close else "")
            + (
                f" (metrics: {', '.join(present[:12])}{', ...' if len(present) > 12 else ''})"
                if present
                else " (it has no metrics)"
            )
        )
