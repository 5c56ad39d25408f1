"""Hyperparameter searches (GridSearchCV, RandomizedSearchCV, halving searches).

The search's run gets ``best_<param>`` params, the ``best_cv_score`` metric and a
``cv_results.csv`` artifact; the best ``max_tuning_runs`` candidates (by rank)
each get a nested run with the estimator's params as that candidate set them and
its cross-validation figures (``mean_test_score``, ``std_test_score``,
``rank_test_score``, ``mean_fit_time``, ...).
"""

from __future__ import annotations

import csv
import io
import math
import numbers
from typing import Any

from gitrun.integrations.autolog.values import as_param
from gitrun.integrations.sklearn.params import estimator_params, estimator_tags


def is_search(estimator: Any) -> bool:
    """A fitted hyperparameter search (duck-typed: any ``BaseSearchCV``)."""
    return hasattr(estimator, "cv_results_") and hasattr(estimator, "estimator")


def is_search_estimator(estimator: Any) -> bool:
    """A hyperparameter search, fitted or not (``GridSearchCV``, ``RandomizedSearchCV``, halving ones)."""
    return any(c.__name__ == "BaseSearchCV" for c in type(estimator).__mro__)


def log_search(run_id: str, search: Any, max_tuning_runs: int | None) -> None:
    """Log a fitted search into ``run_id`` (its parent) and its best candidates as nested runs."""
    from gitrun.tracking import fluent
    from gitrun.tracking.client import Client

    results = search.cv_results_
    if hasattr(search, "best_params_"):
        fluent.log_params({f"best_{k}": v for k, v in search.best_params_.items()}, run_id=run_id)
    if isinstance(getattr(search, "best_score_", None), numbers.Real):
        fluent.log_metrics({"best_cv_score": float(search.best_score_)}, run_id=run_id)
    Client().log_text(run_id, _csv(results), "cv_results.csv")
    for index in _best(results, search, max_tuning_runs):
        _log_candidate(run_id, search, results, index)


def _best(results: dict[str, Any], search: Any, limit: int | None) -> list[int]:
    refit = search.refit if isinstance(search.refit, str) else "score"
    ranks = results.get(f"rank_test_{refit}", results.get("rank_test_score"))
    count = len(results["params"])
    order = sorted(range(count), key=lambda i: int(ranks[i])) if ranks is not None else list(range(count))
    return order if limit is None else order[: max(limit, 0)]


def _log_candidate(parent_id: str, search: Any, results: dict[str, Any], index: int) -> None:
    """One child run, as MLflow makes it: the base estimator's params with the candidate's,
    the aggregate figures of ``cv_results_`` (no ``param_*`` columns, no per-split
    ``split*`` scores), the parent and estimator tags."""
    from gitrun.tracking import fluent

    params = estimator_params(search.estimator)
    params.update({key: as_param(value) for key, value in results["params"][index].items()})
    metrics = {}
    for key, values in results.items():
        if key.startswith(("param", "split")):
            continue
        value = values[index]
        if isinstance(value, numbers.Real) and not isinstance(value, bool) and math.isfinite(float(value)):
            metrics[key] = float(value)
    with fluent.start_run(
        nested=True, parent_run_id=parent_id, tags=estimator_tags(search.estimator)
    ) as child:
        fluent.log_params(params, run_id=child.info.run_id)
        fluent.log_metrics(metrics, run_id=child.info.run_id)


def _csv(results: dict[str, Any]) -> str:
    columns = list(results)
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["", *columns])
    for index in range(len(results["params"])):
        writer.writerow([index, *(_cell(results[c][index]) for c in columns)])
    return out.getvalue()


def _cell(value: Any) -> str:
    if hasattr(value, "item") and not isinstance(value, (list, dict)):
        try:
            value = value.item()
        except (ValueError, AttributeError):
            pass
    return "" if value is None else str(value)
