"""The statsmodels flavor: a fitted results object, pickled, verified on load.

Layout::

    MLmodel              flavors statsmodels + python_function (digest, version)
    model.statsmodels    the results object (statsmodels pickles it the same way in ``save``)
    requirements.txt     statsmodels, numpy, scipy, pandas, pinned

``remove_data=False`` by default, as in MLflow: a results object without its data
cannot compute every statistic again.
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

FLAVOR = "statsmodels"
LOADER_MODULE = "gitrun.statsmodels"
MODEL_FILE = "model.statsmodels"


def _serializer(results: Any, remove_data: bool) -> Any:
    def write(folder: Path) -> Serialized:
        import statsmodels

        if remove_data and hasattr(results, "remove_data"):
            results.remove_data()
        _, digest = pickles.dump(results, folder / MODEL_FILE)
        conf = {
            "code": None,
            "data": MODEL_FILE,
            "digest": digest,
            "statsmodels_version": statsmodels.__version__,
        }
        modules = frozenset({"statsmodels", "numpy", "scipy", "pandas"})
        return Serialized(FLAVOR, conf, MODEL_FILE, LOADER_MODULE, modules)

    return write


def save_model(
    statsmodels_model: Any,
    path: str | os.PathLike[str],
    *,
    remove_data: bool = False,
    signature: ModelSignature | Literal[False] | None = None,
    input_example: Any = None,
    pip_requirements: Sequence[str] | None = None,
    extra_pip_requirements: Sequence[str] | None = None,
    metadata: dict[str, Any] | None = None,
    code_paths: Sequence[str] | None = None,
) -> None:
    """Save fitted statsmodels results (``model.fit()``'s return value) into ``path``."""
    options = SaveOptions(
        signature, input_example, pip_requirements, extra_pip_requirements, metadata, code_paths=code_paths
    )
    save(path, _serializer(statsmodels_model, remove_data), options)


def log_model(
    statsmodels_model: Any,
    name: str | None = None,
    *,
    artifact_path: str | None = None,
    remove_data: bool = False,
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
    """Log fitted statsmodels results as ``<name>/`` (default ``model``) of the active run."""
    options = SaveOptions(
        signature, input_example, pip_requirements, extra_pip_requirements, metadata, code_paths=code_paths
    )
    logged = LogOptions.of(
        name, artifact_path, registered_model_name, params, tags, model_type, step, conda_env
    )
    return log(logged, _serializer(statsmodels_model, remove_data), options, run_id)


def load_model(model_uri: str | os.PathLike[str], dst_path: str | None = None) -> Any:
    """Load the results object saved at ``model_uri`` (re-hashed before unpickling)."""
    with open_flavor(model_uri, FLAVOR, dst_path) as opened:
        check_library("statsmodels", "statsmodels", opened.conf.get("statsmodels_version"))
        return pickles.load(opened.file("data"), opened.conf.get("digest"))


class _StatsmodelsPyfunc:
    """``predict(data)``; a time-series model takes one row with ``start`` and ``end`` (MLflow's rule)."""

    def __init__(self, results: Any) -> None:
        self._results = results

    def predict(self, data: Any, params: dict[str, Any] | None = None) -> Any:
        columns = getattr(data, "columns", ())
        if "start" in columns and "end" in columns and len(data) == 1:
            return self._results.predict(start=data["start"].iloc[0], end=data["end"].iloc[0])
        return self._results.predict(data)

    def unwrap(self) -> Any:
        return self._results


def _load_pyfunc(path: str | os.PathLike[str]) -> _StatsmodelsPyfunc:
    return _StatsmodelsPyfunc(load_model(path))
