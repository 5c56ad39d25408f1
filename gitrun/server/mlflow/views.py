"""Enum fields of MLflow's messages: view types and run statuses, by name or number."""

from __future__ import annotations

from gitrun.errors import InvalidParameterValue
from gitrun.tracking import entities as ent

_VIEWS = {
    "ACTIVE_ONLY": ent.ViewType.ACTIVE_ONLY,
    "DELETED_ONLY": ent.ViewType.DELETED_ONLY,
    "ALL": ent.ViewType.ALL,
}
_STATUSES = ent.RunStatus.all_status()


def _text(value: object) -> str | None:
    if value is None or isinstance(value, bool):
        return None if value is None else str(value)
    return str(value)


def view_type(raw: object) -> int:
    """``ACTIVE_ONLY`` (default), ``DELETED_ONLY``, ``ALL``, or their numbers 1-3."""
    value = _text(raw)
    if value is None or value == "":
        return ent.ViewType.ACTIVE_ONLY
    if value.isdigit() and int(value) in _VIEWS.values():
        return int(value)
    found = _VIEWS.get(value.upper())
    if found is None:
        raise InvalidParameterValue(f"Invalid view type {value!r}: use ACTIVE_ONLY, DELETED_ONLY or ALL")
    return found


def run_status(raw: object) -> str | None:
    """A run status by name (``FINISHED``) or protobuf number (1-5)."""
    value = _text(raw)
    if value is None:
        return None
    if value.isdigit() and 1 <= int(value) <= len(_STATUSES):
        return _STATUSES[int(value) - 1]
    if value not in _STATUSES:
        raise InvalidParameterValue(f"Invalid run status {value!r}: use one of {', '.join(_STATUSES)}")
    return value
