"""The pmdarima flavor: an ``ARIMA``/``AutoARIMA`` model or a pmdarima ``Pipeline``, pickled.

Layout: ``MLmodel``, ``model.pmd`` (pickle, re-hashed before loading),
``requirements.txt``.  MLflow has no pmdarima autologging, and neither has gitrun.
The generic ``predict`` takes a DataFrame with an ``n_periods`` column (and
optionally ``X``, ``return_conf_int``, ``alpha``), as MLflow's pyfunc does, or an int.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Literal

from gitrun.integrations.models import pickles
from gitrun.integrations.models.descriptor import check_library
from gitrun.integrations.models.info import ModelInfo
from gitrun.integrations.models.loading import open_flavor
from gitrun.integrations.models.saving import LogOptions, SaveOptions, Serialized, log, save
from gitrun.integrations.models.signature import ModelSignature

FLAVOR = "pmdarima"
LOADER_MODULE = "gitrun.pmdarima"
MODEL_FILE = "model.pmd"


def _serializer(model: Any) -> Any:
    def write(folder: Path) -> Serialized:
        import pmdarima

        _, digest = pickles.dump(model, folder / MODEL_FILE)
        conf = {
            "code": None,
            "digest": digest,
            "model_data": MODEL_FILE,
            "pmdarima_version": pmdarima.__version__,
        }
        modules = frozenset({"pmdarima", "numpy", "scipy", "statsmodels", "sklearn"})
        return Serialized(FLAVOR, conf, MODEL_FILE, LOADER_MODULE, modules)

    return write


def save_model(
    pmdarima_model: Any,
    path: str | os.PathLike[str],
    *,
    signature: ModelSignature | Literal[False] | None = None,
    input_example: Any = None,
    pip_requirements: Sequence[str] | None = None,
    extra_pip_requirements: Sequence[str] | None = None,
    metadata: dict[str, Any] | None = None,
    code_paths: Sequence[str] | None = None,
) -> None:
    """Save a fitted pmdarima model or pipeline into the new folder ``path``."""
    options = SaveOptions(
        signature, input_example, pip_requirements, extra_pip_requirements, metadata, code_paths=code_paths
    )
    save(path, _serializer(pmdarima_model), options)


def log_model(
    pmdarima_model: Any,
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
    """Log a fitted pmdarima model as ``<name>/`` (default ``model``) of the active run."""
    options = SaveOptions(
        signature, input_example, pip_requirements, extra_pip_requirements, metadata, code_paths=code_paths
    )
    logged = LogOptions.of(
        name, artifact_path, registered_model_name, params, tags, model_type, step, conda_env
    )
    return log(logged, _serializer(pmdarima_model), options, run_id)


def load_model(model_uri: str | os.PathLike[str], dst_path: str | None = None) -> Any:
    """Load the pmdarima model saved at ``model_uri`` (re-hashed before unpickling)."""
    with open_flavor(model_uri, FLAVOR, dst_path) as opened:
        check_library("pmdarima", "pmdarima", opened.conf.get("pmdarima_version"))
        return pickles.load(opened.file("model_data"), opened.conf.get("digest"))


class _PmdarimaPyfunc:
    def __init__(self, model: Any) -> None:
        self._model = model

    def predict(self, data: Any, params: dict[str, Any] | None = None) -> Any:
        if isinstance(data, int):
            return self._model.predict(n_periods=data)
        row = data.iloc[0] if hasattr(data, "iloc") else data
        kwargs: dict[str, Any] = {"n_periods": int(row["n_periods"])}
        for key in ("X", "return_conf_int", "alpha"):
            if key in row and row[key] is not None:
                kwargs[key] = row[key]
        return self._model.predict(**kwargs)

    def unwrap(self) -> Any:
        return self._model


def _load_pyfunc(path: str | os.PathLike[str]) -> _PmdarimaPyfunc:
    return _PmdarimaPyfunc(load_model(path))
