"""The generic model interface: ``PythonModel`` to write one, ``PyFuncModel`` to use any.

``gitrun.pyfunc.load_model(uri)`` gives a :class:`PyFuncModel` for a model of any
flavor: its ``predict(data)`` calls the flavor's own prediction (an estimator's
``predict``, a torch module's forward pass without gradients, a Keras model's
``predict``, a ``PythonModel``'s ``predict``).
"""

from __future__ import annotations

import inspect
from dataclasses import dataclass, field
from typing import Any

from gitrun.integrations.models.descriptor import ModelDescriptor


@dataclass(frozen=True)
class PythonModelContext:
    """What a :class:`PythonModel` gets at load time: its artifacts as local paths, its config."""

    artifacts: dict[str, str] = field(default_factory=dict)
    model_config: dict[str, Any] = field(default_factory=dict)


class PythonModel:
    """Base class for custom models: override ``predict`` (and ``load_context`` if needed).

    ``predict(self, context, model_input, params=None)`` (MLflow 2 style) and
    ``predict(self, model_input, params=None)`` (MLflow 3 style) both work.
    """

    def load_context(self, context: PythonModelContext) -> None:
        """Called once after loading, with the artifacts' local paths."""

    def predict(
        self, context: PythonModelContext, model_input: Any, params: dict[str, Any] | None = None
    ) -> Any:
        raise NotImplementedError(f"{type(self).__name__} does not implement predict()")


class PythonModelRunner:
    """A loaded :class:`PythonModel` with its context, behind the common ``predict``."""

    def __init__(self, model: PythonModel, context: PythonModelContext) -> None:
        self._model = model
        self._context = context
        parameters = list(inspect.signature(model.predict).parameters.values())
        self._takes_context = bool(parameters) and parameters[0].name == "context"
        self._takes_params = any(p.name == "params" for p in parameters)

    def predict(self, data: Any, params: dict[str, Any] | None = None) -> Any:
        extra = {"params": params} if self._takes_params else {}
        if self._takes_context:
            return self._model.predict(self._context, data, **extra)
        return self._model.predict(data, **extra)

    def unwrap(self) -> Any:
        return self._model


class PyFuncModel:
    """A loaded model of any flavor, used through ``predict``."""

    def __init__(self, descriptor: ModelDescriptor, implementation: Any, loader_module: str) -> None:
        self.metadata = descriptor
        self._impl = implementation
        self.loader_module = loader_module

    def predict(self, data: Any, params: dict[str, Any] | None = None) -> Any:
        """Predictions for ``data`` (array, DataFrame, tensor, ... as the flavor accepts).

        ``data`` and ``params`` are first checked against the model's signature
        (see :mod:`gitrun.integrations.models.enforcement`): a missing column, a
        wrong shape or an unsafe type conversion is a clear error, not a wrong answer.
        """
        from gitrun.integrations.models.enforcement import enforce_input, enforce_params

        signature = self.metadata.signature
        return self._impl.predict(enforce_input(signature, data), params=enforce_params(signature, params))

    def get_raw_model(self) -> Any:
        """The underlying object: the estimator, module, Keras model or PythonModel."""
        return self._impl.unwrap()

    def unwrap_python_model(self) -> Any:
        """The :class:`PythonModel` of a python model (an error for other flavors)."""
        model = self._impl.unwrap()
        if not isinstance(model, PythonModel):
            from gitrun.errors import InvalidParameterValue

            raise InvalidParameterValue(f"this model is a {type(model).__name__}, not a PythonModel")
        return model

    @property
    def signature(self) -> Any:
        return self.metadata.signature

    def __repr__(self) -> str:
        flavors = ", ".join(sorted(self.metadata.flavors))
        return f"<PyFuncModel: loader_module={self.loader_module!r}, flavors=[{flavors}]>"
