"""The spaCy flavor: a ``Language`` pipeline saved with ``nlp.to_disk`` (no pickle).

Layout: ``MLmodel``, ``model.spacy/`` (spaCy's folder: config, vocabulary,
component weights), ``requirements.txt``.  Every file is verified by the artifact
store when a logged model is downloaded.  The generic ``predict`` takes a
DataFrame with one text column and returns the text categorizer's scores
(``predictions``), as MLflow's does; it needs a ``textcat`` component.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Literal

from gitrun.errors import InvalidParameterValue
from gitrun.integrations.models.descriptor import check_library
from gitrun.integrations.models.info import ModelInfo
from gitrun.integrations.models.loading import open_flavor
from gitrun.integrations.models.saving import LogOptions, SaveOptions, Serialized, log, save
from gitrun.integrations.models.signature import ModelSignature

FLAVOR = "spacy"
LOADER_MODULE = "gitrun.spacy"
MODEL_DIR = "model.spacy"


def _serializer(nlp: Any) -> Any:
    def write(folder: Path) -> Serialized:
        from importlib import metadata

        nlp.to_disk(folder / MODEL_DIR)
        conf = {"code": None, "data": MODEL_DIR, "spacy_version": metadata.version("spacy")}
        return Serialized(FLAVOR, conf, MODEL_DIR, LOADER_MODULE, frozenset({"spacy"}))

    return write


def save_model(
    spacy_model: Any,
    path: str | os.PathLike[str],
    *,
    signature: ModelSignature | Literal[False] | None = None,
    input_example: Any = None,
    pip_requirements: Sequence[str] | None = None,
    extra_pip_requirements: Sequence[str] | None = None,
    metadata: dict[str, Any] | None = None,
    code_paths: Sequence[str] | None = None,
) -> None:
    """Save a spaCy pipeline into the new folder ``path``."""
    options = SaveOptions(
        signature, input_example, pip_requirements, extra_pip_requirements, metadata, code_paths=code_paths
    )
    save(path, _serializer(spacy_model), options)


def log_model(
    spacy_model: Any,
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
    """Log a spaCy pipeline as ``<name>/`` (default ``model``) of the active run."""
    options = SaveOptions(
        signature, input_example, pip_requirements, extra_pip_requirements, metadata, code_paths=code_paths
    )
    logged = LogOptions.of(
        name, artifact_path, registered_model_name, params, tags, model_type, step, conda_env
    )
    return log(logged, _serializer(spacy_model), options, run_id)


def load_model(model_uri: str | os.PathLike[str], dst_path: str | None = None) -> Any:
    """Load the spaCy pipeline saved at ``model_uri``."""
    with open_flavor(model_uri, FLAVOR, dst_path) as opened:
        spacy = check_library("spacy", "spacy", opened.conf.get("spacy_version"))
        return spacy.load(opened.file("data"))


class _SpacyPyfunc:
    def __init__(self, nlp: Any) -> None:
        self._nlp = nlp

    def predict(self, data: Any, params: dict[str, Any] | None = None) -> Any:
        import pandas as pd

        if "textcat" not in self._nlp.pipe_names and "textcat_multilabel" not in self._nlp.pipe_names:
            raise InvalidParameterValue("this spaCy pipeline has no text categorizer: predict needs one")
        if not hasattr(data, "columns") or len(data.columns) != 1:
            raise InvalidParameterValue("predict takes a DataFrame with exactly one column of texts")
        texts = data[data.columns[0]].astype(str)
        return pd.DataFrame({"predictions": [doc.cats for doc in self._nlp.pipe(texts)]})

    def unwrap(self) -> Any:
        return self._nlp


def _load_pyfunc(path: str | os.PathLike[str]) -> _SpacyPyfunc:
    return _SpacyPyfunc(load_model(path))
