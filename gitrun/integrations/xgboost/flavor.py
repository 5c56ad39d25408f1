"""The XGBoost flavor: a Booster or a scikit-learn-API estimator in XGBoost's own format.

Layout of a saved model::

    MLmodel            flavors xgboost + python_function (model class, format, digest)
    model.ubj          Booster.save_model / XGBModel.save_model (UBJSON)
    requirements.txt   xgboost (or xgboost-cpu), numpy, scipy, pinned

No pickle: loading builds an empty object of the recorded class and reads the
file into it, so a model file cannot run code.  The default format is ``ubj``
(MLflow's default ``xgb`` makes XGBoost 3 warn that the format is deprecated);
``model_format="json"`` gives a readable file.  Both are deterministic, so
logging the same model twice stores it once.
"""

from __future__ import annotations

import importlib
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

FLAVOR = "xgboost"
LOADER_MODULE = "gitrun.xgboost"
_FORMATS = ("ubj", "json", "xgb")


def _serializer(model: Any, model_format: str) -> Any:
    if model_format not in _FORMATS:
        raise InvalidParameterValue(f"model_format must be one of {list(_FORMATS)}, got {model_format!r}")

    def write(folder: Path) -> Serialized:
        import xgboost

        data = f"model.{model_format}"
        model.save_model(str(folder / data))
        cls = type(model)
        conf = {
            "code": None,
            "data": data,
            "digest": file_digest(folder / data),
            "model_class": f"{cls.__module__}.{cls.__qualname__}",
            "model_format": model_format,
            "xgb_version": xgboost.__version__,
        }
        return Serialized(FLAVOR, conf, data, LOADER_MODULE, frozenset({"xgboost", "numpy", "scipy"}))

    return write


def save_model(
    xgb_model: Any,
    path: str | os.PathLike[str],
    *,
    model_format: str = "ubj",
    signature: ModelSignature | Literal[False] | None = None,
    input_example: Any = None,
    pip_requirements: Sequence[str] | None = None,
    extra_pip_requirements: Sequence[str] | None = None,
    metadata: dict[str, Any] | None = None,
    code_paths: Sequence[str] | None = None,
) -> None:
    """Save a ``Booster`` or an ``XGBClassifier``/``XGBRegressor``/... into the new folder ``path``."""
    options = SaveOptions(
        signature,
        input_example,
        pip_requirements,
        extra_pip_requirements,
        metadata,
        _XGBoostPyfunc(xgb_model).predict,
        code_paths=code_paths,
    )
    save(path, _serializer(xgb_model, model_format), options)


def log_model(
    xgb_model: Any,
    name: str | None = None,
    *,
    artifact_path: str | None = None,
    model_format: str = "ubj",
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
    """Log an XGBoost model as ``<name>/`` (default ``model``) of the active run (started if none)."""
    options = SaveOptions(
        signature,
        input_example,
        pip_requirements,
        extra_pip_requirements,
        metadata,
        _XGBoostPyfunc(xgb_model).predict,
        code_paths=code_paths,
    )
    logged = LogOptions.of(
        name, artifact_path, registered_model_name, params, tags, model_type, step, conda_env
    )
    return log(logged, _serializer(xgb_model, model_format), options, run_id)


def load_model(model_uri: str | os.PathLike[str], dst_path: str | None = None) -> Any:
    """Load the ``Booster`` or estimator saved at ``model_uri`` (file verified first)."""
    with open_flavor(model_uri, FLAVOR, dst_path) as opened:
        check_library("xgboost", "xgboost", opened.conf.get("xgb_version"))
        path = opened.file("data")
        verify_file(path, opened.conf.get("digest"))
        model = _model_class(str(opened.conf.get("model_class", "xgboost.core.Booster")))()
        model.load_model(str(path))
        return model


def _model_class(qualified: str) -> Any:
    module_name, _, name = qualified.rpartition(".")
    if module_name.partition(".")[0] != "xgboost":
        raise InvalidParameterValue(f"not an XGBoost model class: {qualified!r}")
    return getattr(importlib.import_module(module_name), name)


class _XGBoostPyfunc:
    """``predict()`` for a Booster (``inplace_predict``: no DMatrix to build) or an estimator."""

    def __init__(self, model: Any) -> None:
        self._model = model

    def predict(self, data: Any, params: dict[str, Any] | None = None) -> Any:
        if hasattr(self._model, "inplace_predict") and not hasattr(self._model, "get_params"):
            return self._model.inplace_predict(data)
        return self._model.predict(data)

    def unwrap(self) -> Any:
        return self._model


def _load_pyfunc(path: str | os.PathLike[str]) -> _XGBoostPyfunc:
    return _XGBoostPyfunc(load_model(path))
