"""Naming and selecting runs the way people type them at a terminal.

A run can be named by its id or a unique prefix of it (as git names commits), by its
name, or relative to the newest run: ``latest`` (also ``@``), ``latest~2`` (also
``@~2``: the third newest).  Experiments by their name or id.  This module also
answers the questions a listing needs beyond search_runs: how many runs match (for
"100 of 2,000 runs"), which keys exist (to explain an empty result: "no run has a
metric 'val_ac'; did you mean metrics.val_acc?").
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Sequence
from typing import Any

from gitrun.core.index import lookups
from gitrun.core.index.grammar import parse_filter
from gitrun.core.index.query import RunSearch
from gitrun.errors import InvalidParameterValue, ResourceDoesNotExist
from gitrun.tracking import entities as ent
from gitrun.tracking import search
from gitrun.tracking.store import TrackingStore

_RELATIVE = re.compile(r"^(?:latest|@)(?:~(\d+))?$")
_HEX = re.compile(r"^[0-9a-f]+$")
ENTITIES = {"metric": "metrics", "param": "params", "tag": "tags"}


def resolve_run(store: TrackingStore, text: str, experiment_ids: Sequence[str] | None = None) -> str:
    """The full id of the run ``text`` names.

    Tried in order: ``latest``/``@`` with an optional ``~N``; a full id or a unique id
    prefix; a run name (active runs; when several runs share it, which one was meant is
    not guessed: the error lists them).

    Raises:
        ResourceDoesNotExist: Nothing is called that.
        InvalidParameterValue: ``text`` is empty or names several runs.
    """
    text = text.strip()
    if not text:
        raise InvalidParameterValue("a run is required: an id (or unique prefix), a name, or latest / @~N")
    index = search.index_for(store)
    relative = _RELATIVE.match(text)
    if relative:
        back = int(relative.group(1) or 0)
        store.runs.flush()
        found = index.read(lambda conn: lookups.newest_run_ids(conn, experiment_ids, back + 1))
        if len(found) <= back:
            raise ResourceDoesNotExist(
                f"'{text}' needs at least {back + 1} run(s); there are {len(found)}"
                + (" in the chosen experiment(s)" if experiment_ids is not None else "")
            )
        return found[back]
    lowered = text.lower()
    if _HEX.match(lowered):
        try:
            return search.resolve_run_id(store, lowered)
        except ResourceDoesNotExist:
            pass  # perhaps a name made of hex digits ("cafe")
    store.runs.flush()
    named = index.read(lambda conn: lookups.run_ids_named(conn, text, experiment_ids))
    if len(named) == 1:
        return named[0]
    if named:
        shown = ", ".join(r[:8] for r in named[:10]) + (", ..." if len(named) > 10 else "")
        raise InvalidParameterValue(
            f"{len(named)} runs are named '{text}' ({shown}, newest first): give an id prefix instead"
        )
    raise ResourceDoesNotExist(
        f"no run id starts with '{text}' and no run is named so (see `gitrun runs ls`; latest or @~N "
        "name the newest runs)"
    )


def resolve_experiment(store: TrackingStore, text: str) -> ent.Experiment:
    """The experiment named ``text``, or numbered ``text``; deleted ones included.

    Raises:
        ResourceDoesNotExist: No experiment has that name or id.
    """
    found = store.get_experiment_by_name(text)
    if found is not None:
        return found
    if text.isdigit():
        try:
            return store.get_experiment(text)
        except ResourceDoesNotExist:
            pass
    names = [e.name for e in store.list_experiments()]
    close = difflib.get_close_matches(text, names, n=3)
    hint = f"; did you mean {' or '.join(repr(n) for n in close)}?" if close else ""
    raise ResourceDoesNotExist(
        f"no experiment named or numbered '{text}'{hint} (see `gitrun experiments ls --all`)"
    )


def count_runs(
    store: TrackingStore, experiment_ids: Sequence[str], filter_string: str = "", view: Any = "ACTIVE_ONLY"
) -> int:
    """How many runs a search would return without a limit."""
    if not experiment_ids:
        return 0
    query = RunSearch(tuple(experiment_ids), parse_filter(filter_string), (), search.view_of(view))
    store.runs.flush()
    return search.index_for(store).read(lambda conn: lookups.count_runs(conn, query))


def known_keys(store: TrackingStore, entity: str) -> list[str]:
    """Every key of ``entity`` (metric, param, tag) that some run (any experiment) has."""
    store.runs.flush()
    return search.index_for(store).read(lambda conn: lookups.known_keys(conn, entity))


def experiment_run_counts(store: TrackingStore) -> dict[str, tuple[int, int]]:
    """experiment id -> (active runs, deleted runs)."""
    store.runs.flush()
    return search.index_for(store).read(lookups.run_counts)


def suggest_key(store: TrackingStore, key: str, entity: str | None = None) -> str | None:
    """The closest existing ``metrics.x`` / ``params.x`` / ``tags.x`` to a mistyped key."""
    candidates: dict[str, str] = {}
    for name, prefix in ENTITIES.items():
        if entity is None or entity == name:
            for known in known_keys(store, name):
                candidates.setdefault(known, f"{prefix}.{known}")
    if key in candidates:
        return candidates[key]
    close = difflib.get_close_matches(key, list(candidates), n=1, cutoff=0.6)
    return candidates[close[0]] if close else None


def missing_filter_keys(store: TrackingStore, filter_string: str) -> list[str]:
    """Why a filter matches nothing when it names keys no run has: one sentence per key."""
    problems = []
    for clause in parse_filter(filter_string):
        if clause.entity not in ENTITIES or clause.comparator in ("IS NULL", "!="):
            continue
        if clause.key in known_keys(store, clause.entity):
            continue
        prefix = ENTITIES[clause.entity]
        hint = suggest_key(store, clause.key)
        problems.append(
            f"no run has a {clause.entity} named '{clause.key}'"
            + (f"; did you mean {hint}?" if hint and hint != f"{prefix}.{clause.key}" else "")
        )
    return problems


def explain_filter_error(store: TrackingStore, exc: InvalidParameterValue) -> InvalidParameterValue:
    """The grammar's error with a hint when a bare key is a known metric, param or tag."""
    match = re.search(r"Invalid attribute key '([^']+)'", exc.message)
    if match:
        hint = suggest_key(store, match.group(1))
        if hint:
            return InvalidParameterValue(f"{exc.message}; did you mean {hint}?")
    return exc
