"""Custom metrics (MLflow's ``make_metric``) and baseline thresholds (``MetricThreshold``)."""

from __future__ import annotations

import inspect
import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from gitrun.errors import GitrunError, InvalidParameterValue


@dataclass(frozen=True)
class MetricValue:
    """What a custom metric may return: per-row ``scores`` and/or ``aggregate_results``."""

    scores: list[Any] | None = None
    justifications: list[str] | None = None
    aggregate_results: dict[str, float] | None = None


@dataclass(frozen=True)
class EvaluationMetric:
    """A custom metric: ``eval_fn(predictions, targets[, metrics])`` returning a number or a MetricValue."""

    eval_fn: Callable[..., Any]
    name: str
    greater_is_better: bool
    long_name: str | None = None
    version: str | None = None
    metric_details: str | None = None
    metric_metadata: dict[str, Any] | None = None

    def compute(self, predictions: Any, targets: Any, metrics: dict[str, float]) -> dict[str, float]:
        """The values this metric adds, by name (``<name>/<aggregate>`` for a MetricValue)."""
        parameters = inspect.signature(self.eval_fn).parameters
        args: list[Any] = [predictions, targets]
        if len(parameters) >= 3:
            args.append(dict(metrics))
        value = self.eval_fn(*args[: max(len(parameters), 2)])
        if isinstance(value, MetricValue):
            return {f"{self.name}/{k}": float(v) for k, v in (value.aggregate_results or {}).items()}
        try:
            return {self.name: float(value)}
        except (TypeError, ValueError):
            raise InvalidParameterValue(
                f"custom metric {self.name!r} returned {type(value).__name__}: "
                "return a number or a MetricValue"
            ) from None


def make_metric(
    *,
    eval_fn: Callable[..., Any],
    greater_is_better: bool,
    name: str | None = None,
    long_name: str | None = None,
    version: str | None = None,
    metric_details: str | None = None,
    metric_metadata: dict[str, Any] | None = None,
    genai_metric_args: dict[str, Any] | None = None,
) -> EvaluationMetric:
    """A custom metric for ``gitrun.evaluate(extra_metrics=[...])`` (named after ``eval_fn`` by default)."""
    metric_name = name or getattr(eval_fn, "__name__", None)
    if not metric_name or metric_name == "<lambda>":
        raise InvalidParameterValue("make_metric needs name= for a lambda or an unnamed callable")
    return EvaluationMetric(
        eval_fn, metric_name, greater_is_better, long_name, version, metric_details, metric_metadata
    )


@dataclass(frozen=True)
class MetricThreshold:
    """What a candidate model must reach: an absolute ``threshold`` and/or an improvement
    over the baseline model (``min_absolute_change``, ``min_relative_change``)."""

    threshold: float | None = None
    min_absolute_change: float | None = None
    min_relative_change: float | None = None
    greater_is_better: bool = True


class ModelValidationFailedException(GitrunError):
    """A candidate model failed its ``validation_thresholds``."""


def check_thresholds(
    thresholds: dict[str, MetricThreshold], candidate: dict[str, float], baseline: dict[str, float] | None
) -> None:
    """Raise :class:`ModelValidationFailedException` listing every threshold the candidate misses."""
    failures = []
    for name, rule in thresholds.items():
        value = candidate.get(name)
        if value is None or math.isnan(value):
            failures.append(f"{name}: the candidate has no value")
            continue
        sign = 1 if rule.greater_is_better else -1
        if rule.threshold is not None and sign * (value - rule.threshold) < 0:
            failures.append(f"{name}={value} does not reach the threshold {rule.threshold}")
        base = (baseline or {}).get(name)
        if base is None:
            if rule.min_absolute_change is not None or rule.min_relative_change is not None:
                failures.append(f"{name}: change thresholds need a baseline_model")
            continue
        if rule.min_absolute_change is not None and sign * (value - base) < rule.min_absolute_change:
            failures.append(f"{name}={value} does not beat the baseline {base} by {rule.min_absolute_change}")
        if rule.min_relative_change is not None and base != 0:
            relative = sign * (value - base) / abs(base)
            if relative < rule.min_relative_change:
                failures.append(
                    f"{name}={value} does not beat the baseline {base} by {rule.min_relative_change:.0%}"
                )
    if failures:
        raise ModelValidationFailedException("model validation failed: " + "; ".join(failures))
