"""Merging two registries that changed apart (two machines, one remote): deterministic and symmetric.

The same result whichever side merges, so machines converge after one exchange:

* a field (description, a tag, an alias) changed on one side only takes that
  change; changed on both sides, the later change wins (``last_updated_timestamp``
  of the record, ``set_at`` of an alias), and on a tie the value whose YAML sorts
  last;
* a model, version, tag or alias deleted on one side and left alone on the other
  is deleted; deleted on one side and changed on the other, the change is kept;
* the same version number registered on both sides for different models: the
  earlier registration keeps the number, the other is renumbered after the
  highest one (its side's aliases follow it).

Every decision that overrode one side is returned as a note; the merge commit's
message lists them, so ``git log`` shows which alias move lost and why.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from gitrun.core.records import yamlfmt
from gitrun.core.registry.state import ModelEntry, Registry

_MISSING: Any = object()
Winner = Callable[[Any, Any], Any]
"""Chooses between two values both sides changed (must not depend on which side is ours)."""


def _dump(value: Any) -> str:
    return yamlfmt.dump({"v": value})


def later_alias(ours: Any, theirs: Any) -> Any:
    """The alias move made later (``set_at``); on a tie, the one whose YAML sorts last."""
    return max(
        (ours, theirs), key=lambda v: (int(v.get("set_at") or 0) if isinstance(v, dict) else 0, _dump(v))
    )


def merge_map(
    base: dict[str, Any],
    ours: dict[str, Any],
    theirs: dict[str, Any],
    winner: Winner,
    what: str,
    notes: list[str],
) -> dict[str, Any]:
    """Key by key, three ways (see the module docstring)."""
    out: dict[str, Any] = {}
    for key in sorted(set(base) | set(ours) | set(theirs)):
        b, o, t = base.get(key, _MISSING), ours.get(key, _MISSING), theirs.get(key, _MISSING)
        if t in (o, b):
            value = o
        elif o == b:
            value = t
        elif o is _MISSING or t is _MISSING:
            value = t if o is _MISSING else o  # deleted on one side, changed on the other: kept
            notes.append(f"{what} {key}: kept the change over a deletion")
        else:
            value = winner(o, t)
            lost = t if value is o else o
            notes.append(f"{what} {key}: kept {_short(value)} over {_short(lost)}")
        if value is not _MISSING:
            out[key] = value
    return out


def _short(value: Any) -> str:
    if isinstance(value, dict) and "version" in value:
        return f"version {value['version']} (set by {value.get('set_by', '?')} at {value.get('set_at', '?')})"
    return repr(value)


def _merge_record(
    base: dict[str, Any], ours: dict[str, Any], theirs: dict[str, Any], what: str, notes: list[str]
) -> dict[str, Any]:
    """Field by field and tag by tag; a field both sides changed takes the newer record's value."""
    newer = max((ours, theirs), key=lambda r: (int(r.get("last_updated_timestamp") or 0), _dump(r)))

    def winner(o: Any, t: Any) -> Any:
        return o if newer is ours else t

    def strip(record: dict[str, Any]) -> dict[str, Any]:
        return {k: v for k, v in record.items() if k not in ("tags", "last_updated_timestamp")}

    out = merge_map(strip(base), strip(ours), strip(theirs), winner, what, notes)
    out["last_updated_timestamp"] = max(
        int(ours.get("last_updated_timestamp") or 0), int(theirs.get("last_updated_timestamp") or 0)
    )
    out["tags"] = merge_map(
        base.get("tags") or {}, ours.get("tags") or {}, theirs.get("tags") or {}, winner, f"{what} tag", notes
    )
    return out


def _identity(record: dict[str, Any]) -> tuple[Any, ...]:
    return (record.get("source"), record.get("model_digest"), record.get("creation_timestamp"))


def _merge_versions(
    name: str, base: ModelEntry | None, ours: ModelEntry, theirs: ModelEntry, notes: list[str]
) -> tuple[dict[int, dict[str, Any]], dict[int, int], dict[int, int]]:
    """The merged versions, and how each side's numbers were renumbered."""
    b = base.versions if base is not None else {}
    out: dict[int, dict[str, Any]] = {}
    clashes: list[dict[str, Any]] = []
    renumber_ours: dict[int, int] = {}
    renumber_theirs: dict[int, int] = {}
    for number in sorted(set(b) | set(ours.versions) | set(theirs.versions)):
        o, t, was = ours.versions.get(number), theirs.versions.get(number), b.get(number)
        if o is not None and t is not None and _identity(o) != _identity(t):
            first, second = sorted((o, t), key=lambda r: (int(r.get("creation_timestamp") or 0), _dump(r)))
            out[number] = first
            clashes.append(second)
            (renumber_ours if second is o else renumber_theirs)[number] = -1
            continue
        if o is not None and t is not None:
            out[number] = _merge_record(was or o, o, t, f"{name} version {number}", notes)
        elif o is not None or t is not None:
            kept = o if o is not None else t
            assert kept is not None
            if was is None or kept != was:
                out[number] = kept  # new on one side, or changed on one side and deleted on the other
    next_free = max([*out, *b, 0]) + 1
    for record in clashes:
        old = int(record["version"])
        moved = dict(record, version=next_free)
        out[next_free] = moved
        side = renumber_ours if old in renumber_ours and renumber_ours[old] == -1 else renumber_theirs
        side[old] = next_free
        notes.append(
            f"{name}: version {old} was registered on both sides; "
            f"{_describe(record)} became version {next_free}"
        )
        next_free += 1
    return out, renumber_ours, renumber_theirs


def _describe(record: dict[str, Any]) -> str:
    return f"{record.get('source')} (registered by {record.get('user_id', '?')})"


def _renumbered(aliases: dict[str, Any], mapping: dict[int, int]) -> dict[str, Any]:
    out = {}
    for alias, value in aliases.items():
        version = int(value["version"]) if isinstance(value, dict) else int(value)
        out[alias] = dict(value, version=mapping.get(version, version)) if isinstance(value, dict) else value
    return out


def merge(base: Registry, ours: Registry, theirs: Registry) -> tuple[Registry, list[str]]:
    """The three-way merge of two registries and the notes of every overriding decision."""
    notes: list[str] = []
    out: Registry = {}
    for name in sorted(set(base) | set(ours) | set(theirs)):
        b, o, t = base.get(name), ours.get(name), theirs.get(name)
        if o is None or t is None:
            kept = o if o is not None else t
            if kept is None:
                continue
            if b is None or _entry_dump(kept) != _entry_dump(b):
                out[name] = kept
                if b is not None:
                    notes.append(f"{name}: kept the changes over a deletion of the registered model")
            continue
        versions, ours_map, theirs_map = _merge_versions(name, b, o, t, notes)
        record = _merge_record(b.record if b is not None else o.record, o.record, t.record, name, notes)
        aliases = merge_map(
            b.aliases if b is not None else {},
            _renumbered(o.aliases, {k: v for k, v in ours_map.items() if v != -1}),
            _renumbered(t.aliases, {k: v for k, v in theirs_map.items() if v != -1}),
            later_alias,
            f"alias {name}@",
            notes,
        )
        aliases = {k: v for k, v in aliases.items() if int(v["version"]) in versions}
        out[name] = ModelEntry(record, versions, aliases)
    return out, notes


def _entry_dump(entry: ModelEntry) -> str:
    return _dump({"r": entry.record, "v": {str(k): v for k, v in entry.versions.items()}, "a": entry.aliases})
