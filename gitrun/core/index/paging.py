"""Page sizes and page tokens of searches.

A token is base64 of JSON ``{"offset": N, "query": H}``, as MLflow's is base64 of
``{"offset": N}``, plus ``H``: a hash of the search it belongs to, so that a token
handed to a different search (another filter, order, experiment list or view) is
refused instead of silently skipping rows.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json

from gitrun.errors import InvalidParameterValue

MAX_RESULTS_LIMIT = 50_000


def check_max_results(max_results: object) -> int:
    """MLflow's bounds: a positive integer, at most 50000."""
    if isinstance(max_results, bool) or not isinstance(max_results, int) or max_results <= 0:
        raise InvalidParameterValue(
            "Invalid value for request parameter max_results. It must be a positive integer, "
            f"but got {max_results!r}"
        )
    if max_results > MAX_RESULTS_LIMIT:
        raise InvalidParameterValue(
            f"Invalid value for request parameter max_results. It must be at most {MAX_RESULTS_LIMIT}, "
            f"but got value {max_results}"
        )
    return max_results


def fingerprint(*parts: object) -> str:
    """A short stable hash of a search's defining parts (reprs of frozen values)."""
    text = json.dumps([repr(p) for p in parts], separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def encode_token(offset: int, query: str) -> str:
    payload = json.dumps({"offset": offset, "query": query}, separators=(",", ":"))
    return base64.b64encode(payload.encode()).decode()


def decode_token(token: str | None, query: str) -> int:
    """The offset a token stands for (0 for no token).

    Raises:
        InvalidParameterValue: The token is not one of ours, or belongs to another search.
    """
    if token is None or token == "":
        return 0
    try:
        payload = json.loads(base64.b64decode(token.encode(), validate=True))
    except (binascii.Error, ValueError, UnicodeError, AttributeError):
        raise InvalidParameterValue(f"Invalid page token, could not base64-decode: {token!r}") from None
    offset = payload.get("offset") if isinstance(payload, dict) else None
    if isinstance(offset, bool) or not isinstance(offset, int) or offset < 0:
        raise InvalidParameterValue(f"Invalid page token, decoded value={payload!r}")
    if payload.get("query") != query:
        raise InvalidParameterValue(
            "Invalid page token: it belongs to a different search. Pass the same experiments, "
            "filter_string, order_by and run_view_type as for the first page."
        )
    return offset
