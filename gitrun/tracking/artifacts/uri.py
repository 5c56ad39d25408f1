"""Artifact URIs: ``runs:/<run_id>[/<path>]``, what a run's ``artifact_uri`` is."""

from __future__ import annotations

from gitrun.core.artifacts.paths import normalize_artifact_path
from gitrun.errors import InvalidParameterValue

RUNS_SCHEME = "runs:/"


def parse_runs_uri(uri: str) -> tuple[str, str | None]:
    """The run id and artifact path (None for the run's root) of a ``runs:/`` URI.

    Raises:
        InvalidParameterValue: not a ``runs:/`` URI, no run id, or an invalid path.
    """
    if not isinstance(uri, str) or not uri.startswith(RUNS_SCHEME):
        raise InvalidParameterValue(
            f"unsupported artifact URI {uri!r}: gitrun artifacts are addressed as runs:/<run_id>/<path> "
            "(or fetched by digest with `gitrun pull`)"
        )
    rest = uri[len(RUNS_SCHEME) :].lstrip("/")
    run_id, _, path = rest.partition("/")
    if not run_id:
        raise InvalidParameterValue(f"artifact URI {uri!r} names no run: expected runs:/<run_id>/<path>")
    path = path.strip("/")
    return run_id, normalize_artifact_path(path) if path else None
