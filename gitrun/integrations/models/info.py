"""``ModelInfo``: what ``log_model`` returns (MLflow's fields, gitrun's values)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from gitrun.integrations.models.descriptor import ModelDescriptor
from gitrun.integrations.models.signature import ModelSignature


@dataclass(frozen=True)
class ModelInfo:
    """A logged model.

    ``model_uri`` is ``runs:/<run_id>/<name>``, the URI every ``load_model`` takes
    (``models:/<model_id>`` works too).  ``model_id`` (also ``model_uuid``) is the
    logged model's id; ``model_digest`` is the content address of the model's
    folder: logging the same model again gives the same digest and stores nothing new.
    """

    artifact_path: str
    flavors: dict[str, dict[str, Any]]
    model_uri: str
    model_uuid: str | None
    run_id: str | None
    saved_input_example_info: dict[str, Any] | None
    signature: ModelSignature | None
    utc_time_created: str
    gitrun_version: str
    model_size_bytes: int | None = None
    pip_requirements: tuple[str, ...] = ()
    model_digest: str | None = None
    registered_model_version: int | None = None
    params: dict[str, str] = field(default_factory=dict)
    tags: dict[str, str] = field(default_factory=dict)
    metrics: list[Any] = field(default_factory=list)

    @classmethod
    def of(
        cls,
        descriptor: ModelDescriptor,
        name: str,
        run_id: str | None,
        created: str,
        model: Any,
        registered_version: int | None = None,
    ) -> ModelInfo:
        """The info of a model described by ``descriptor``, logged as ``name`` in ``run_id``
        (``model``: its :class:`~gitrun.entities.LoggedModel`, None for a saved folder)."""
        return cls(
            artifact_path=name,
            flavors=descriptor.flavors,
            model_uri=f"runs:/{run_id}/{name}" if run_id else name,
            model_uuid=model.model_id if model is not None else None,
            run_id=run_id,
            saved_input_example_info=descriptor.saved_input_example_info,
            signature=descriptor.signature,
            utc_time_created=created,
            gitrun_version=descriptor.gitrun_version,
            model_size_bytes=descriptor.model_size_bytes,
            pip_requirements=tuple(descriptor.pip_requirements),
            model_digest=model.digest if model is not None else None,
            registered_model_version=registered_version,
            params=dict(model.params) if model is not None else {},
            tags=dict(model.tags) if model is not None else {},
            metrics=list(model.metrics) if model is not None else [],
        )

    @property
    def name(self) -> str:
        return self.artifact_path

    @property
    def model_id(self) -> str | None:
        return self.model_uuid

    @property
    def mlflow_version(self) -> str:
        """gitrun's version (MLflow code reads this attribute)."""
        return self.gitrun_version

    @property
    def signature_dict(self) -> dict[str, str | None] | None:
        return self.signature.to_dict() if self.signature else None
