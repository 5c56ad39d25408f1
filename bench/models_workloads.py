"""Model workloads, one code path for both libraries: ``import <lib> as mlflow``.

Run by ``bench_models.py`` as a child process (the project's interpreter for gitrun,
``bench/.venv-mlflow``'s for MLflow); prints one JSON line of samples in seconds.

    python models_workloads.py {gitrun,mlflow} {sklearn_autolog,keras_autolog,log_model} [--repeats R]

Plain and autologged calls alternate (autolog is switched with ``disable=``), so a
change of machine load hits both sides of each pair alike; the overhead is the
median of the paired differences.
"""

from __future__ import annotations

import argparse
import importlib
import json
import os
import resource
import statistics
import time
import warnings
from collections.abc import Callable
from typing import Any

mlflow: Any = None


def _cpu() -> float:
    """CPU seconds of this process and its finished children (MLflow runs pip in subprocesses).

    Less sensitive than wall time to the other work on a shared machine.
    """
    own = resource.getrusage(resource.RUSAGE_SELF)
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


class Clock:
    """Wall and CPU seconds of each timed call."""

    def __init__(self) -> None:
        self.cpu: list[float] = []

    def timed(self, fn: Callable[[], object]) -> float:
        cpu, start = _cpu(), time.perf_counter()
        fn()
        wall = time.perf_counter() - start
        self.cpu.append(_cpu() - cpu)
        return wall


clock = Clock()
_timed = clock.timed


def _pairs(
    plain: Callable[[], float], logged: Callable[[], float], toggle: Callable[[bool], None], n: int
) -> dict[str, Any]:
    toggle(True)
    logged()  # warm-up: first-use imports on both sides
    toggle(False)
    plain()
    alone, with_log, cpu_overhead = [], [], []
    for _ in range(n):
        toggle(False)
        alone.append(plain())
        cpu_alone = clock.cpu[-1]
        toggle(True)
        with_log.append(logged())
        cpu_overhead.append(clock.cpu[-1] - cpu_alone)
    toggle(False)
    overhead = [b - a for a, b in zip(alone, with_log)]
    return {
        "alone": alone,
        "autolog": with_log,
        "overhead": overhead,
        "overhead_median": statistics.median(overhead),
        "cpu_overhead": cpu_overhead,
        "cpu_overhead_median": statistics.median(cpu_overhead),
    }


def sklearn_autolog(args: argparse.Namespace) -> dict[str, Any]:
    from sklearn.datasets import make_classification
    from sklearn.ensemble import RandomForestClassifier

    X, y = make_classification(n_samples=500, n_features=10, random_state=0)

    def fit() -> None:
        RandomForestClassifier(n_estimators=100, max_depth=10, random_state=0).fit(X, y)

    def toggle(on: bool) -> None:
        mlflow.sklearn.autolog(disable=not on, silent=True)

    def in_run() -> float:
        with mlflow.start_run():
            return _timed(fit)

    out = {"in_run": _pairs(in_run, in_run, toggle, args.repeats)}
    # Without an open run autolog creates one; the baseline is the bare fit.
    out["no_run"] = _pairs(lambda: _timed(fit), lambda: _timed(fit), toggle, args.repeats)
    return out


def keras_autolog(args: argparse.Namespace) -> dict[str, Any]:
    import keras
    import numpy as np
    import torch

    torch.set_num_threads(1)  # one thread: less sensitive to the other work on the machine

    rng = np.random.default_rng(0)
    X = rng.random((512, 20)).astype("float32")
    y = (X.sum(axis=1) > 10).astype("int32")
    epochs = args.epochs

    def fit() -> float:
        keras.utils.set_random_seed(0)
        model = keras.Sequential(
            [keras.Input((20,)), keras.layers.Dense(32, activation="relu"), keras.layers.Dense(2)]
        )
        model.compile(optimizer="adam", loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True))
        with mlflow.start_run():
            return _timed(lambda: model.fit(X, y, epochs=epochs, batch_size=64, verbose=0))

    def toggle(on: bool) -> None:
        mlflow.keras.autolog(disable=not on, log_models=False, silent=True)

    out = _pairs(fit, fit, toggle, args.repeats)
    out["epochs"] = epochs
    out["per_epoch_overhead"] = [d / epochs for d in out["overhead"]]
    return out


def log_model(args: argparse.Namespace) -> dict[str, Any]:
    from sklearn.datasets import make_classification
    from sklearn.ensemble import RandomForestClassifier
    from sklearn.linear_model import LogisticRegression

    X, y = make_classification(n_samples=500, n_features=10, random_state=0)
    models = {
        "logistic_regression": (LogisticRegression(max_iter=500).fit(X, y), {}),
        # MLflow 3's default format (skops) refuses a RandomForest: use its autolog format.
        "random_forest_100": (
            RandomForestClassifier(n_estimators=100, max_depth=10, random_state=0).fit(X, y),
            {"serialization_format": "cloudpickle"} if mlflow.__name__ == "mlflow" else {},
        ),
    }
    out: dict[str, Any] = {}
    with mlflow.start_run():
        for label, (model, extra) in models.items():
            samples = []
            cpu = []
            for i in range(args.repeats + 1):
                start, cpu_start = time.perf_counter(), _cpu()
                mlflow.sklearn.log_model(model, name=f"{label}-{i}", **extra)
                seconds = time.perf_counter() - start
                if i:  # the first call pays one-off imports
                    samples.append(seconds)
                    cpu.append(_cpu() - cpu_start)
            out[label] = {
                "samples": samples,
                "median": statistics.median(samples),
                "cpu": cpu,
                "cpu_median": statistics.median(cpu),
            }
    return out


WORKLOADS = {"sklearn_autolog": sklearn_autolog, "keras_autolog": keras_autolog, "log_model": log_model}


def main() -> None:
    global mlflow
    parser = argparse.ArgumentParser()
    parser.add_argument("lib", choices=["gitrun", "mlflow"])
    parser.add_argument("workload", choices=sorted(WORKLOADS))
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--epochs", type=int, default=20)
    parser.add_argument("--store", default="")
    args = parser.parse_args()
    warnings.simplefilter("ignore")
    os.environ.setdefault("KERAS_BACKEND", "torch")
    mlflow = importlib.import_module(args.lib)
    if args.store:
        mlflow.set_tracking_uri(args.store)
    result = WORKLOADS[args.workload](args)
    print(json.dumps(result))


if __name__ == "__main__":
    main()
