"""Estimator parameters as run params: ``get_params(deep=True)``, each value ``str()``-ed."""

from __future__ import annotations

from typing import Any

from gitrun.integrations.autolog.values import as_param


def estimator_params(estimator: Any, deep: bool = True) -> dict[str, str]:
    """Every parameter of ``estimator`` (and, ``deep``, of the estimators inside it)."""
    try:
        params = estimator.get_params(deep=deep)
    except Exception:  # noqa: BLE001 - a broken get_params leaves the run without params
        return {}
    return {str(key): as_param(value) for key, value in params.items()}


def estimator_tags(estimator: Any) -> dict[str, str]:
    """MLflow's ``estimator_name`` and ``estimator_class`` tags."""
    cls = type(estimator)
    return {"estimator_name": cls.__name__, "estimator_class": f"{cls.__module__}.{cls.__qualname__}"}
