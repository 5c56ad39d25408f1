"""``ModelInfo``: what ``log_model`` returns (MLflow's fields, gitrun's values)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from gitrun.integrations.models.descriptor import ModelDescriptor
from gitrun.integrations.models.signature import ModelSignature


@dataclass(frozen=True)
class ModelInfo:
    """A logged model.

    ``model_uri`` is ``runs:/<run_id>/<name>``, the URI every ``load_model`` takes.
    ``model_uuid`` (also ``model_id``) is the content address of the model's
    directory: logging the same model again gives the same id and stores nothing new.
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

    @classmethod
    def of(
        cls, descriptor: ModelDescriptor, name: str, run_id: str | None, created: str, model_id: str | None
    ) -> ModelInfo:
        """The info of a model described by ``descriptor``, logged as ``name`` in ``run_id``."""
        return cls(
            artifact_path=name,
            flavors=descriptor.flavors,
            model_uri=f"runs:/{run_id}/{name}" if run_id else name,
            model_uuid=model_id,
            run_id=run_id,
            saved_input_example_info=descriptor.saved_input_example_info,
            signature=descriptor.signature,
            utc_time_created=created,
            gitrun_version=descriptor.gitrun_version,
            model_size_bytes=descriptor.model_size_bytes,
            pip_requirements=tuple(descriptor.pip_requirements),
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
