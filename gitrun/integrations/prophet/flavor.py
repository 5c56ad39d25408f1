"""The Prophet flavor: a fitted ``Prophet`` model as Prophet's own JSON (``model_to_json``).

Layout: ``MLmodel``, ``model.pr`` (JSON: no pickle), ``requirements.txt``.  The
generic ``predict`` takes a DataFrame with a ``ds`` column (as MLflow's does).
MLflow has no Prophet autologging, and neither has gitrun.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Literal

from gitrun.integrations.models.descriptor import check_library, file_digest, verify_file
from gitrun.integrations.models.info import ModelInfo
from gitrun.integrations.models.loading import open_flavor
from gitrun.integrations.models.saving import LogOptions, SaveOptions, Serialized, log, save
from gitrun.integrations.models.signature import ModelSignature

FLAVOR = "prophet"
LOADER_MODULE = "gitrun.prophet"
MODEL_FILE = "model.pr"


def _serializer(model: Any) -> Any:
    def write(folder: Path) -> Serialized:
        import prophet
        from prophet.serialize import model_to_json

        (folder / MODEL_FILE).write_text(model_to_json(model), encoding="utf-8")
        conf = {
            "code": None,
            "digest": file_digest(folder / MODEL_FILE),
            "model_name": MODEL_FILE,
            "prophet_version": prophet.__version__,
        }
        return Serialized(FLAVOR, conf, MODEL_FILE, LOADER_MODULE, frozenset({"prophet", "pandas", "numpy"}))

    return write


def save_model(
    pr_model: Any,
    path: str | os.PathLike[str],
    *,
    signature: ModelSignature | Literal[False] | None = None,
    input_example: Any = None,
    pip_requirements: Sequence[str] | None = None,
    extra_pip_requirements: Sequence[str] | None = None,
    metadata: dict[str, Any] | None = None,
    code_paths: Sequence[str] | None = None,
) -> None:
    """Save a fitted Prophet model into the new folder ``path``."""
    options = SaveOptions(
        signature, input_example, pip_requirements, extra_pip_requirements, metadata, code_paths=code_paths
    )
    save(path, _serializer(pr_model), options)


def log_model(
    pr_model: Any,
    name: str | None = None,
    *,
    artifact_path: str | None = None,
    signature: ModelSignature | Literal[False] | None = None,
    input_example: Any = None,
    pip_requirements: Sequence[str] | None = None,
    extra_pip_requirements: Sequence[str] | None = None,
    metadata: dict[str, Any] | None = None,
    code_paths: Sequence[str] | None = None,
    registered_model_name: str | None = None,
    params: dict[str, Any] | None = None,
    tags: dict[str, Any] | None = None,
    model_type: str | None = None,
    step: int = 0,
    conda_env: Any = None,
    run_id: str | None = None,
) -> ModelInfo:
    """Log a fitted Prophet model as ``<name>/`` (default ``model``) of the active run."""
    options = SaveOptions(
        signature, input_example, pip_requirements, extra_pip_requirements, metadata, code_paths=code_paths
    )
    logged = LogOptions.of(
        name, artifact_path, registered_model_name, params, tags, model_type, step, conda_env
    )
    return log(logged, _serializer(pr_model), options, run_id)


def load_model(model_uri: str | os.PathLike[str], dst_path: str | None = None) -> Any:
    """Load the Prophet model saved at ``model_uri`` (file verified first)."""
    with open_flavor(model_uri, FLAVOR, dst_path) as opened:
        check_library("prophet", "prophet", opened.conf.get("prophet_version"))
        from prophet.serialize import model_from_json

        path = opened.file("model_name")
        verify_file(path, opened.conf.get("digest"))
        return model_from_json(path.read_text(encoding="utf-8"))


class _ProphetPyfunc:
    def __init__(self, model: Any) -> None:
        self._model = model

    def predict(self, data: Any, params: dict[str, Any] | None = None) -> Any:
        return self._model.predict(data)

    def unwrap(self) -> Any:
        return self._model


def _load_pyfunc(path: str | os.PathLike[str]) -> _ProphetPyfunc:
    return _ProphetPyfunc(load_model(path))
