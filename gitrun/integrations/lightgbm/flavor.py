"""The LightGBM flavor: a Booster in LightGBM's text format, or a scikit-learn-API estimator.

Layout of a saved model::

    MLmodel            flavors lightgbm + python_function (model class, digest)
    model.lgb          Booster.save_model (text)            -- a Booster
    model.pkl          the estimator, pickled and verified  -- LGBMClassifier, ...
    requirements.txt   lightgbm, numpy, scipy, pinned

As in MLflow, estimators are pickled (LightGBM's text format loses the
scikit-learn wrapper); the pickle is re-hashed against the descriptor before it
is loaded.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Literal

from gitrun.integrations.models import pickles
from gitrun.integrations.models.descriptor import check_library, file_digest, verify_file
from gitrun.integrations.models.info import ModelInfo
from gitrun.integrations.models.loading import open_flavor
from gitrun.integrations.models.saving import LogOptions, SaveOptions, Serialized, log, save
from gitrun.integrations.models.signature import ModelSignature

FLAVOR = "lightgbm"
LOADER_MODULE = "gitrun.lightgbm"
BOOSTER_FILE = "model.lgb"
ESTIMATOR_FILE = "model.pkl"


def _is_booster(model: Any) -> bool:
    return type(model).__name__ == "Booster" and not hasattr(model, "get_params")


def _serializer(model: Any) -> Any:
    def write(folder: Path) -> Serialized:
        import lightgbm

        if _is_booster(model):
            data = BOOSTER_FILE
            model.save_model(str(folder / data))
            digest = file_digest(folder / data)
        else:
            data = ESTIMATOR_FILE
            _, digest = pickles.dump(model, folder / data)
        cls = type(model)
        conf = {
            "code": None,
            "data": data,
            "digest": digest,
            "lgb_version": lightgbm.__version__,
            "model_class": f"{cls.__module__}.{cls.__qualname__}",
        }
        modules = frozenset({"lightgbm", "numpy", "scipy", *([] if _is_booster(model) else ["sklearn"])})
        return Serialized(FLAVOR, conf, data, LOADER_MODULE, modules)

    return write


def _options(
    model: Any, signature: Any, input_example: Any, pip: Any, extra: Any, metadata: Any, code_paths: Any
) -> SaveOptions:
    return SaveOptions(
        signature, input_example, pip, extra, metadata, _LightGBMPyfunc(model).predict, code_paths=code_paths
    )


def save_model(
    lgb_model: Any,
    path: str | os.PathLike[str],
    *,
    signature: ModelSignature | Literal[False] | None = None,
    input_example: Any = None,
    pip_requirements: Sequence[str] | None = None,
    extra_pip_requirements: Sequence[str] | None = None,
    metadata: dict[str, Any] | None = None,
    code_paths: Sequence[str] | None = None,
) -> None:
    """Save a ``lightgbm.Booster`` or an ``LGBMClassifier``/``LGBMRegressor``/... into ``path``."""
    options = _options(
        lgb_model, signature, input_example, pip_requirements, extra_pip_requirements, metadata, code_paths
    )
    save(path, _serializer(lgb_model), options)


def log_model(
    lgb_model: Any,
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
    """Log a LightGBM model as ``<name>/`` (default ``model``) of the active run (started if none)."""
    options = _options(
        lgb_model, signature, input_example, pip_requirements, extra_pip_requirements, metadata, code_paths
    )
    logged = LogOptions.of(
        name, artifact_path, registered_model_name, params, tags, model_type, step, conda_env
    )
    return log(logged, _serializer(lgb_model), options, run_id)


def load_model(model_uri: str | os.PathLike[str], dst_path: str | None = None) -> Any:
    """Load the Booster or estimator saved at ``model_uri`` (file verified first)."""
    with open_flavor(model_uri, FLAVOR, dst_path) as opened:
        lightgbm = check_library("lightgbm", "lightgbm", opened.conf.get("lgb_version"))
        path = opened.file("data")
        if path.name == ESTIMATOR_FILE:
            return pickles.load(path, opened.conf.get("digest"))
        verify_file(path, opened.conf.get("digest"))
        return lightgbm.Booster(model_file=str(path))


class _LightGBMPyfunc:
    def __init__(self, model: Any) -> None:
        self._model = model

    def predict(self, data: Any, params: dict[str, Any] | None = None) -> Any:
        return self._model.predict(data)

    def unwrap(self) -> Any:
        return self._model


def _load_pyfunc(path: str | os.PathLike[str]) -> _LightGBMPyfunc:
    return _LightGBMPyfunc(load_model(path))
