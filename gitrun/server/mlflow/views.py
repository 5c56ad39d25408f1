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


# gitrun's logged-model statuses and their names (and numbers) in MLflow's protobuf.
_MODEL_STATUSES = {
    ent.LoggedModelStatus.PENDING: "LOGGED_MODEL_PENDING",
    ent.LoggedModelStatus.READY: "LOGGED_MODEL_READY",
    ent.LoggedModelStatus.FAILED: "LOGGED_MODEL_UPLOAD_FAILED",
}
_MODEL_STATUS_OF = {wire: ours for ours, wire in _MODEL_STATUSES.items()}
_MODEL_STATUS_NUMBERS = dict(enumerate(_MODEL_STATUSES, start=1))


def model_status_name(status: str) -> str:
    """The protobuf name of a logged model's status (``LOGGED_MODEL_READY``)."""
    return _MODEL_STATUSES.get(status, "LOGGED_MODEL_STATUS_UNSPECIFIED")


def model_status(raw: object) -> str:
    """A logged model status sent by a client: protobuf name or number (gitrun's names too)."""
    if isinstance(raw, int) and not isinstance(raw, bool) and raw in _MODEL_STATUS_NUMBERS:
        return _MODEL_STATUS_NUMBERS[raw]
    value = _text(raw)
    if value is None:
        raise InvalidParameterValue("Missing value for required parameter 'status'.")
    found = _MODEL_STATUS_OF.get(value) or (value if value in _MODEL_STATUSES else None)
    if found is None:
        raise InvalidParameterValue(
            f"Invalid logged model status {value!r}: use one of {', '.join(_MODEL_STATUSES.values())}"
        )
    return found
