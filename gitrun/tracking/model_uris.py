"""``models:/`` URIs: which run's folder holds the model they name.

* ``models:/m-<id>``: a logged model (MLflow 3), found through the search index;
* ``models:/<name>/<version>``, ``models:/<name>@<alias>``, ``models:/<name>/latest``:
  a version of a registered model (the registry, :mod:`gitrun.tracking.registry`).

The answer is a ``runs:/<run_id>/<name>`` URI, downloaded and verified like any
artifact.  A registered version also records the model's content digest, and the
download is checked against it: the same bytes wherever it is loaded.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from gitrun.errors import InvalidParameterValue, ResourceDoesNotExist

if TYPE_CHECKING:
    from gitrun.tracking.client import Client
    from gitrun.tracking.registry import ModelVersion

PREFIX = "models:/"


def resolve(client: Client, uri: str) -> str:
    """The ``runs:/`` URI of the model a ``models:/`` URI names."""
    return resolve_with_digest(client, uri)[0]


def resolve_with_digest(client: Client, uri: str) -> tuple[str, str | None]:
    """``(runs:/ URI, the digest the folder must have or None)``."""
    if not uri.startswith(PREFIX):
        raise InvalidParameterValue(f"not a models:/ URI: {uri!r}")
    rest = uri[len(PREFIX) :].strip("/")
    if not rest:
        raise InvalidParameterValue(
            f"{uri!r} names no model: use models:/<model_id> or models:/<name>/<version>"
        )
    if rest.startswith("m-") and "/" not in rest and "@" not in rest:
        model = client.get_logged_model(rest)
        return model.artifact_location, model.digest or None
    version = _registered_version(client, rest, uri)
    return version.source, version.model_digest


def _registered_version(client: Client, rest: str, uri: str) -> ModelVersion:
    if "@" in rest:
        name, _, alias = rest.rpartition("@")
        if not name or not alias:
            raise InvalidParameterValue(f"malformed model URI {uri!r}: use models:/<name>@<alias>")
        return client.get_model_version_by_alias(name, alias)  # type: ignore[no-any-return]
    name, sep, version = rest.rpartition("/")
    if not sep or not name:
        raise InvalidParameterValue(
            f"malformed model URI {uri!r}: use models:/<name>/<version>, models:/<name>@<alias> "
            "or models:/<model_id>"
        )
    if version.lower() == "latest":
        latest = client.get_latest_versions(name)
        if not latest:
            raise ResourceDoesNotExist(f"registered model {name} has no versions")
        return latest[0]  # type: ignore[no-any-return]
    return client.get_model_version(name, version)  # type: ignore[no-any-return]
