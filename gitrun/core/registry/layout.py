"""Where the registry lives in git, defined once.

The ref ``refs/gitrun/registry`` points at a commit whose tree is::

    registry.yaml                         schema_version
    models/<name>/model.yaml              name, description, tags, times
    models/<name>/versions/<n>.yaml       one version: source, run, model id, content digest, ...
    models/<name>/aliases.yaml            alias -> {version, set_by, set_at}

``<name>`` is percent-encoded like metric keys (``/``, ``%`` and a leading ``.``).
"""

from __future__ import annotations

from gitrun.core.records.layout import decode_key, encode_key

SCHEMA_VERSION = 1
REGISTRY_REF = "refs/gitrun/registry"
REMOTE_REGISTRY_REF = "refs/gitrun/remotes/{remote}/registry"

STORE_FILE = "registry.yaml"
MODELS_DIR = "models"
MODEL_FILE = "model.yaml"
VERSIONS_DIR = "versions"
ALIASES_FILE = "aliases.yaml"


def model_dir(name: str) -> str:
    return f"{MODELS_DIR}/{encode_key(name)}"


def name_of(entry: str) -> str:
    return decode_key(entry)


def version_file(version: int) -> str:
    return f"{version}.yaml"
