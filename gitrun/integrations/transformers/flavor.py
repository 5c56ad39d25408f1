"""The Hugging Face Transformers flavor: ``save_pretrained`` folders, safetensors weights.

Layout::

    MLmodel, requirements.txt
    model/        model.save_pretrained(): config.json + model.safetensors
    tokenizer/    the tokenizer or processor, when given

Loading calls ``from_pretrained`` on the saved model class (looked up in the
``transformers`` package only).  Safetensors hold no code, so nothing is
unpickled; the files are verified by the artifact store when downloaded.
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

FLAVOR = "transformers"
MODEL_DIR = "model"
TOKENIZER_DIR = "tokenizer"
LOADER_MODULE = "gitrun.transformers"


def _serializer(model: Any, tokenizer: Any) -> Any:
    def write(folder: Path) -> Serialized:
        import transformers

        model.save_pretrained(folder / MODEL_DIR)
        conf: dict[str, Any] = {
            "model_class": type(model).__name__,
            "model_dir": MODEL_DIR,
            "transformers_version": transformers.__version__,
        }
        if tokenizer is not None:
            tokenizer.save_pretrained(folder / TOKENIZER_DIR)
            conf.update(tokenizer_class=type(tokenizer).__name__, tokenizer_dir=TOKENIZER_DIR)
        modules = {"transformers", "torch", "safetensors", *(["tokenizers"] if tokenizer is not None else [])}
        return Serialized(FLAVOR, conf, MODEL_DIR, LOADER_MODULE, frozenset(modules))

    return write


def save_model(
    transformers_model: Any,
    path: str | os.PathLike[str],
    *,
    tokenizer: Any = None,
    signature: ModelSignature | Literal[False] | None = None,
    pip_requirements: Sequence[str] | None = None,
    extra_pip_requirements: Sequence[str] | None = None,
    metadata: dict[str, Any] | None = None,
) -> None:
    """Save a ``PreTrainedModel`` (and optionally its tokenizer) into the new folder ``path``."""
    options = SaveOptions(signature, None, pip_requirements, extra_pip_requirements, metadata)
    save(path, _serializer(transformers_model, tokenizer), options)


def log_model(
    transformers_model: Any,
    name: str | None = None,
    *,
    artifact_path: str | None = None,
    tokenizer: Any = None,
    signature: ModelSignature | Literal[False] | None = None,
    pip_requirements: Sequence[str] | None = None,
    extra_pip_requirements: Sequence[str] | None = None,
    metadata: dict[str, Any] | None = None,
    code_paths: Sequence[str] | None = None,
    registered_model_name: str | None = None,
    params: dict[str, Any] | None = None,
    tags: dict[str, Any] | None = None,
    model_type: str | None = None,
    step: int = 0,
    run_id: str | None = None,
) -> ModelInfo:
    """Log a ``PreTrainedModel`` (and its tokenizer) as ``<name>/`` of the active run (started if none).

    Unlike MLflow's transformers flavor this takes the model object, not a pipeline.
    """
    options = SaveOptions(
        signature, None, pip_requirements, extra_pip_requirements, metadata, code_paths=code_paths
    )
    logged = LogOptions.of(name, artifact_path, registered_model_name, params, tags, model_type, step)
    return log(logged, _serializer(transformers_model, tokenizer), options, run_id)


def load_model(
    model_uri: str | os.PathLike[str], dst_path: str | None = None, return_tokenizer: bool = False
) -> Any:
    """Load the model (or ``(model, tokenizer)`` with ``return_tokenizer=True``)."""
    with open_flavor(model_uri, FLAVOR, dst_path) as opened:
        transformers = check_library("transformers", "transformers", opened.conf.get("transformers_version"))
        model = _class(transformers, opened.conf["model_class"]).from_pretrained(opened.file("model_dir"))
        if not return_tokenizer:
            return model
        tokenizer = None
        if opened.conf.get("tokenizer_dir"):
            cls = _class(transformers, opened.conf["tokenizer_class"])
            tokenizer = cls.from_pretrained(opened.file("tokenizer_dir"))
        return model, tokenizer


def _class(transformers: Any, name: str) -> Any:
    cls = getattr(transformers, str(name), None)
    if cls is None or not hasattr(cls, "from_pretrained"):
        raise InvalidParameterValue(
            f"transformers has no loadable class {name!r} (saved by another version?)"
        )
    return cls


class _TransformersPyfunc:
    """``predict()``: a dict of arrays (``input_ids``, ``attention_mask``, ...) or an
    array of token ids in; logits (numpy) out."""

    def __init__(self, model: Any) -> None:
        self._model = model

    def predict(self, data: Any, params: dict[str, Any] | None = None) -> Any:
        import numpy as np
        import torch

        inputs = data if isinstance(data, dict) else {"input_ids": data}
        tensors = {k: torch.as_tensor(np.asarray(v)) for k, v in inputs.items()}
        self._model.eval()
        with torch.no_grad():
            output = self._model(**tensors)
        logits = getattr(output, "logits", None)
        result = logits if logits is not None else output[0]
        return result.detach().cpu().numpy()

    def unwrap(self) -> Any:
        return self._model


def _load_pyfunc(path: str | os.PathLike[str]) -> _TransformersPyfunc:
    return _TransformersPyfunc(load_model(path))
