"""MLflow's wire conventions: reading request fields, writing JSON, error bodies.

Requests are protobuf messages in JSON (POST/PATCH bodies) or in the query string
(GET).  Fields are read by name with a declared kind, so a wrong type is refused
with MLflow's ``INVALID_PARAMETER_VALUE`` message before anything is written.
Doubles travel as numbers or as the strings ``NaN``/``Infinity``/``-Infinity``;
int64 fields as numbers or numeric strings.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from gitrun.errors import GitrunError, InvalidParameterValue

BAD_REQUEST = "BAD_REQUEST"
ENDPOINT_NOT_FOUND = "ENDPOINT_NOT_FOUND"
PERMISSION_DENIED = "PERMISSION_DENIED"
UNAUTHENTICATED = "UNAUTHENTICATED"

_NON_FINITE_IN = {
    "nan": math.nan,
    "infinity": math.inf,
    "-infinity": -math.inf,
    "inf": math.inf,
    "-inf": -math.inf,
}
_NON_FINITE_OUT = {"nan": "NaN", "inf": "Infinity", "-inf": "-Infinity"}
_INT64 = 2**63


class ApiError(GitrunError):
    """An error answered with an explicit HTTP status (auth, limits, routing)."""

    def __init__(self, message: str, error_code: str, status: int) -> None:
        super().__init__(message, error_code)
        self.status = status

    def get_http_status_code(self) -> int:
        return self.status


def missing(name: str) -> InvalidParameterValue:
    return InvalidParameterValue(
        f"Missing value for required parameter '{name}'. See the API docs for more information about "
        "request parameters."
    )


def invalid(name: str, value: Any, hint: str) -> InvalidParameterValue:
    shown = json.dumps(value) if not isinstance(value, str) else f'"{value}"'
    return InvalidParameterValue(
        f"Invalid value {shown} for parameter '{name}' supplied. Hint: Value was of type "
        f"'{type(value).__name__}'. {hint}"
    )


class Fields:
    """The fields of one request (a JSON object, or query parameters), read by kind."""

    def __init__(self, data: Mapping[str, Any], *, from_query: bool = False) -> None:
        self.data = data
        self.from_query = from_query

    def raw(self, name: str) -> Any:
        return self.data.get(name)

    def has(self, name: str) -> bool:
        return self.data.get(name) is not None

    def string(self, name: str, *, required: bool = False, default: str | None = None) -> str | None:
        value = self.data.get(name)
        if value is None:
            if required:
                raise missing(name)
            return default
        if not isinstance(value, str):
            raise invalid(name, value, "See the API docs for more information about request parameters.")
        if required and value == "" and not self.from_query:
            raise missing(name)
        return value

    def required_string(self, name: str) -> str:
        value = self.string(name, required=True)
        assert value is not None
        return value

    def run_id(self) -> str:
        """``run_id``, or the deprecated ``run_uuid`` the client sends beside it."""
        value = self.string("run_id") or self.string("run_uuid")
        if not value:
            raise missing("run_id")
        return value

    def integer(self, name: str, *, required: bool = False, default: int | None = None) -> int | None:
        value = self.data.get(name)
        if value is None:
            if required:
                raise missing(name)
            return default
        if isinstance(value, bool):
            raise invalid(name, value, "Value must be an integer.")
        if isinstance(value, int):
            number = value
        elif isinstance(value, float) and value.is_integer():
            number = int(value)
        elif isinstance(value, str):
            try:
                number = int(value.strip())
            except ValueError:
                raise invalid(name, value, "Value must be an integer.") from None
        else:
            raise invalid(name, value, "Value must be an integer.")
        if not -_INT64 <= number < _INT64:
            raise invalid(name, value, "Value must be a 64-bit integer.")
        return number

    def double(self, name: str, *, required: bool = False) -> float | None:
        value = self.data.get(name)
        if value is None:
            if required:
                raise missing(name)
            return None
        return as_double(name, value)

    def strings(self, name: str) -> list[str]:
        value = self.data.get(name)
        if value is None:
            return []
        if isinstance(value, str) and self.from_query:
            return [value]
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise invalid(name, value, "Value must be a list of strings.")
        return value

    def objects(self, name: str) -> list[Fields]:
        value = self.data.get(name)
        if value is None:
            return []
        if not isinstance(value, list) or not all(isinstance(v, dict) for v in value):
            raise invalid(name, value, "Value must be a list of objects.")
        return [Fields(v) for v in value]

    def boolean(self, name: str, default: bool = False) -> bool:
        value = self.data.get(name)
        if value is None:
            return default
        if isinstance(value, bool):
            return value
        if isinstance(value, str) and value.lower() in ("true", "false"):
            return value.lower() == "true"
        raise invalid(name, value, "Value must be a boolean.")


def as_double(name: str, value: Any) -> float:
    if isinstance(value, bool):
        raise invalid(name, value, "Value must be a number.")
    if isinstance(value, (int, float)):
        return float(value)
    if isinstance(value, str):
        special = _NON_FINITE_IN.get(value.strip().lower())
        if special is not None:
            return special
        try:
            return float(value)
        except ValueError:
            pass
    raise invalid(name, value, "Value must be a number.")


def query_fields(request: Request) -> Fields:
    """GET fields: repeated keys become lists (``run_ids=a&run_ids=b``)."""
    data: dict[str, Any] = {}
    for key in request.query_params:
        values = request.query_params.getlist(key)
        data[key] = values if len(values) > 1 else values[0]
    return Fields(data, from_query=True)


def parse_json_body(body: bytes) -> Fields:
    """A POST/PATCH body: a JSON object (empty means ``{}``)."""
    if not body.strip():
        return Fields({})
    try:
        data = json.loads(body)
    except (ValueError, UnicodeDecodeError) as exc:
        raise InvalidParameterValue(f"Malformed JSON in the request body: {exc}") from None
    if not isinstance(data, dict):
        raise InvalidParameterValue("The request body must be a JSON object.")
    return Fields(data)


def plain(value: Any) -> Any:
    """JSON-ready: non-finite floats as MLflow's strings, nested containers converted."""
    if isinstance(value, float):
        return value if math.isfinite(value) else _NON_FINITE_OUT[repr(value)]
    if isinstance(value, dict):
        return {k: plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [plain(v) for v in value]
    return value


class JsonMessage(Response):
    """A protobuf-JSON response: unset fields already dropped by the builders."""

    media_type = "application/json"

    def render(self, content: Any) -> bytes:
        return json.dumps(plain(content), ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def error_response(exc: GitrunError) -> Response:
    return JsonMessage(
        {"error_code": exc.error_code, "message": exc.message}, status_code=exc.get_http_status_code()
    )
