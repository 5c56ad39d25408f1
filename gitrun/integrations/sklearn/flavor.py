"""The scikit-learn flavor: estimators pickled (standard library), verified on load.

Layout of a saved model::

    MLmodel             flavors sklearn + python_function, versions, requirements, signature
    model.pkl           pickle protocol 5 (cloudpickle when plain pickle cannot)
    requirements.txt    scikit-learn, numpy, scipy and the model's other libraries, pinned
    input_example.json  when an input example was given

Why pickle and not skops (MLflow 3's default): skops refuses any type it was not
told to trust, a RandomForest included, so the tutorial's code would fail; pickle
loads everything, and gitrun makes it safe against tampering by checking the
file's digest before unpickling.  Estimators from xgboost and lightgbm pickle the
same way.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Literal

from gitrun.integrations.models import pickles
from gitrun.integrations.models.descriptor import check_library
from gitrun.integrations.models.info import ModelInfo
from gitrun.integrations.models.loading import open_flavor, warn_ignored
from gitrun.integrations.models.requirements import modules_of
from gitrun.integrations.models.saving import LogOptions, SaveOptions, Serialized, log, save
from gitrun.integrations.models.signature import ModelSignature

FLAVOR = "sklearn"
MODEL_FILE = "model.pkl"
LOADER_MODULE = "gitrun.sklearn"


def _serializer(model: Any, serialization_format: str) -> Any:
    def write(folder: Path) -> Serialized:
        import sklearn

        fmt, digest = pickles.dump(model, folder / MODEL_FILE, serialization_format)
        conf = {
            "code": None,
            "digest": digest,
            "pickled_model": MODEL_FILE,
            "serialization_format": fmt,
            "sklearn_version": sklearn.__version__,
        }
        modules = {"sklearn", "numpy", "scipy", *modules_of(_parts(model))}
        if fmt == "cloudpickle":
            modules.add("cloudpickle")
        return Serialized(FLAVOR, conf, MODEL_FILE, LOADER_MODULE, frozenset(modules))

    return write


def _parts(model: Any) -> list[Any]:
    """The model and every estimator inside it (pipeline steps, a search's estimator)."""
    parts = [model]
    try:
        params = model.get_params(deep=True)
    except Exception:  # noqa: BLE001 - not a well-behaved estimator: just the model itself
        return parts
    parts.extend(v for v in params.values() if hasattr(v, "get_params"))
    best = getattr(model, "best_estimator_", None)
    if best is not None:
        parts.append(best)
    return parts


def save_model(
    sk_model: Any,
    path: str | os.PathLike[str],
    *,
    serialization_format: str = "pickle",
    signature: ModelSignature | Literal[False] | None = None,
    input_example: Any = None,
    pip_requirements: Sequence[str] | None = None,
    extra_pip_requirements: Sequence[str] | None = None,
    metadata: dict[str, Any] | None = None,
    conda_env: Any = None,
) -> None:
    """Save a scikit-learn (or xgboost/lightgbm sklearn-API) model into the new folder ``path``."""
    warn_ignored("conda_env", conda_env)
    predict = getattr(sk_model, "predict", None)
    options = SaveOptions(
        signature, input_example, pip_requirements, extra_pip_requirements, metadata, predict
    )
    save(path, _serializer(sk_model, serialization_format), options)


def log_model(
    sk_model: Any,
    name: str | None = None,
    *,
    artifact_path: str | None = None,
    serialization_format: str = "pickle",
    signature: ModelSignature | Literal[False] | None = None,
    input_example: Any = None,
    pip_requirements: Sequence[str] | None = None,
    extra_pip_requirements: Sequence[str] | None = None,
    metadata: dict[str, Any] | None = None,
    registered_model_name: str | None = None,
    conda_env: Any = None,
    code_paths: Sequence[str] | None = None,
    infer_code_paths: bool = False,
    params: dict[str, Any] | None = None,
    tags: dict[str, Any] | None = None,
    model_type: str | None = None,
    step: int = 0,
    run_id: str | None = None,
) -> ModelInfo:
    """Log a scikit-learn model as the artifact folder ``<name>/`` (default ``model``) of the run.

    ``log_model(model, "model")`` works as in MLflow; the active run is used, or
    one is started.  A signature is inferred from ``input_example`` unless given
    (``signature=False`` stores none).  Returns a :class:`ModelInfo` whose
    ``model_uri`` (``runs:/<run_id>/<name>``) :func:`load_model` accepts.
    """
    predict = getattr(sk_model, "predict", None)
    options = SaveOptions(
        signature,
        input_example,
        pip_requirements,
        extra_pip_requirements,
        metadata,
        predict,
        code_paths=code_paths,
        infer_code_paths=infer_code_paths,
        model_object=sk_model,
    )
    logged = LogOptions.of(
        name, artifact_path, registered_model_name, params, tags, model_type, step, conda_env
    )
    return log(logged, _serializer(sk_model, serialization_format), options, run_id)


def load_model(model_uri: str | os.PathLike[str], dst_path: str | None = None) -> Any:
    """Load a scikit-learn model from ``runs:/<run_id>/<name>``, a ``file://`` URI or a folder.

    The pickle is re-hashed against the digest in the descriptor before it is
    unpickled (unpickling runs code: load models only from stores you trust).
    A different scikit-learn version than the one that saved it gives a warning.
    """
    with open_flavor(model_uri, FLAVOR, dst_path) as opened:
        check_library("sklearn", "scikit-learn", opened.conf.get("sklearn_version"))
        fmt = str(opened.conf.get("serialization_format", "pickle"))
        return pickles.load(opened.file("pickled_model"), opened.conf.get("digest"), fmt)


class _SklearnPyfunc:
    """``predict()`` over an estimator (``predict_proba`` etc. via :meth:`unwrap`)."""

    def __init__(self, model: Any) -> None:
        self._model = model

    def predict(self, data: Any, params: dict[str, Any] | None = None) -> Any:
        return self._model.predict(data)

    def unwrap(self) -> Any:
        return self._model


def _load_pyfunc(path: str | os.PathLike[str]) -> _SklearnPyfunc:
    return _SklearnPyfunc(load_model(path))
