"""The CatBoost flavor: a ``CatBoost``/``CatBoostClassifier``/... in CatBoost's own format.

Layout: ``MLmodel`` (model type, save format, digest), ``model.cb``
(``save_model(format="cbm")``: no pickle), ``requirements.txt``.  Loading builds an
empty object of the recorded type and reads the file into it.  MLflow has no
CatBoost autologging, and neither has gitrun.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Literal

from gitrun.errors import InvalidParameterValue
from gitrun.integrations.models.descriptor import check_library, file_digest, verify_file
from gitrun.integrations.models.info import ModelInfo
from gitrun.integrations.models.loading import open_flavor
from gitrun.integrations.models.saving import LogOptions, SaveOptions, Serialized, log, save
from gitrun.integrations.models.signature import ModelSignature

FLAVOR = "catboost"
LOADER_MODULE = "gitrun.catboost"
MODEL_FILE = "model.cb"
_TYPES = ("CatBoost", "CatBoostClassifier", "CatBoostRegressor", "CatBoostRanker")


def _serializer(model: Any) -> Any:
    def write(folder: Path) -> Serialized:
        import catboost

        model.save_model(str(folder / MODEL_FILE), format="cbm")
        conf = {
            "catboost_version": catboost.__version__,
            "code": None,
            "data": MODEL_FILE,
            "digest": file_digest(folder / MODEL_FILE),
            "model_type": type(model).__name__,
            "save_format": "cbm",
        }
        return Serialized(FLAVOR, conf, MODEL_FILE, LOADER_MODULE, frozenset({"catboost", "numpy"}))

    return write


def save_model(
    cb_model: Any,
    path: str | os.PathLike[str],
    *,
    signature: ModelSignature | Literal[False] | None = None,
    input_example: Any = None,
    pip_requirements: Sequence[str] | None = None,
    extra_pip_requirements: Sequence[str] | None = None,
    metadata: dict[str, Any] | None = None,
    code_paths: Sequence[str] | None = None,
) -> None:
    """Save a fitted CatBoost model into the new folder ``path``."""
    options = SaveOptions(
        signature,
        input_example,
        pip_requirements,
        extra_pip_requirements,
        metadata,
        getattr(cb_model, "predict", None),
        code_paths=code_paths,
    )
    save(path, _serializer(cb_model), options)


def log_model(
    cb_model: Any,
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
    """Log a fitted CatBoost model as ``<name>/`` (default ``model``) of the active run."""
    options = SaveOptions(
        signature,
        input_example,
        pip_requirements,
        extra_pip_requirements,
        metadata,
        getattr(cb_model, "predict", None),
        code_paths=code_paths,
    )
    logged = LogOptions.of(
        name, artifact_path, registered_model_name, params, tags, model_type, step, conda_env
    )
    return log(logged, _serializer(cb_model), options, run_id)


def load_model(model_uri: str | os.PathLike[str], dst_path: str | None = None) -> Any:
    """Load the CatBoost model saved at ``model_uri`` (file verified first)."""
    with open_flavor(model_uri, FLAVOR, dst_path) as opened:
        catboost = check_library("catboost", "catboost", opened.conf.get("catboost_version"))
        kind = str(opened.conf.get("model_type", "CatBoost"))
        if kind not in _TYPES:
            raise InvalidParameterValue(f"unknown CatBoost model type {kind!r} (one of {list(_TYPES)})")
        path = opened.file("data")
        verify_file(path, opened.conf.get("digest"))
        model = getattr(catboost, kind)()
        model.load_model(str(path), format=str(opened.conf.get("save_format", "cbm")))
        return model


class _CatBoostPyfunc:
    def __init__(self, model: Any) -> None:
        self._model = model

    def predict(self, data: Any, params: dict[str, Any] | None = None) -> Any:
        return self._model.predict(data)

    def unwrap(self) -> Any:
        return self._model


def _load_pyfunc(path: str | os.PathLike[str]) -> _CatBoostPyfunc:
    return _CatBoostPyfunc(load_model(path))
