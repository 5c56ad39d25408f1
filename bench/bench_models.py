"""Models and autologging, gitrun vs MLflow (issue 6).

* scikit-learn autolog: a RandomForestClassifier(n_estimators=100, max_depth=10) fit on
  500x10, alone vs with autolog, in an open run and with no run (autolog makes one);
  target: gitrun adds <= 0.1 s and >= 25x less than MLflow;
* Keras autolog (torch backend, log_models=False): overhead per epoch of a 20-epoch fit;
* ``sklearn.log_model`` of a LogisticRegression and of the 100-tree forest; target <= 0.1 s.

    python bench/bench_models.py [--repeats 9] [--no-mlflow] [--no-keras]

MLflow runs in ``bench/.venv-mlflow`` with its default sqlite store; for the Keras
figure, torch (pinned, CPU) and keras are added to that venv on first use.
Results: stdout and ``bench/results/models.json``.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from typing import Any

import common
from common import Row

WORKER = os.path.join(common.BENCH_DIR, "models_workloads.py")
PROJECT = {"train.py": "print('train')\n", ".gitignore": "*.log\n"}


def child(python: str, lib: str, workload: str, tmp: str, **options: Any) -> dict[str, Any]:
    argv = [python, WORKER, lib, workload]
    for key, value in options.items():
        argv += [f"--{key}", str(value)]
    if lib == "gitrun":
        cwd = common.fresh_repo(tmp, PROJECT)
    else:
        cwd = tempfile.mkdtemp(prefix="mlflow-", dir=tmp)
        argv += ["--store", f"sqlite:///{cwd}/mlflow.db"]
    env = common.bench_env(KERAS_BACKEND="torch", MLFLOW_DISABLE_TELEMETRY="true", DO_NOT_TRACK="true")
    result = common.run_child(argv, cwd=cwd, env=env)
    return json.loads(result.stdout.strip().splitlines()[-1])  # type: ignore[no-any-return]


def ensure_keras(python: str) -> bool:
    """keras and CPU torch in MLflow's venv (torch pinned: an unpinned one is a CUDA build)."""
    probe = [python, "-c", "import keras, torch"]
    env = {**os.environ, "KERAS_BACKEND": "torch"}
    if subprocess.run(probe, capture_output=True, env=env, check=False).returncode == 0:
        return True
    print("adding torch==2.13.0 and keras to bench/.venv-mlflow ...", file=sys.stderr)
    for packages in (["torch==2.13.0"], ["torch==2.13.0", "keras"]):
        if subprocess.run([python, "-m", "pip", "install", "-q", *packages], check=False).returncode != 0:
            return False
    return subprocess.run(probe, capture_output=True, env=env, check=False).returncode == 0


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--repeats", type=int, default=9)
    parser.add_argument("--no-mlflow", action="store_true")
    parser.add_argument("--no-keras", action="store_true")
    args = parser.parse_args()
    load_before = common.machine_load()
    mlflow = None if args.no_mlflow else common.mlflow_python()
    ours = common.gitrun_python()
    figures: dict[str, dict[str, Any]] = {}
    with tempfile.TemporaryDirectory(prefix="bench-models-") as tmp:
        workloads: list[tuple[str, dict[str, Any]]] = [("sklearn_autolog", {}), ("log_model", {})]
        if not args.no_keras:
            workloads.append(("keras_autolog", {"epochs": 20}))
        for workload, options in workloads:
            options["repeats"] = args.repeats
            figures[workload] = {"gitrun": child(ours, "gitrun", workload, tmp, **options)}
            if mlflow is not None and (workload != "keras_autolog" or ensure_keras(mlflow)):
                figures[workload]["mlflow"] = child(mlflow, "mlflow", workload, tmp, **options)
    rows = rows_of(figures)
    version = common.mlflow_version(mlflow) if mlflow else None
    common.print_table(rows, f"models and autologging (MLflow {version}, median of {args.repeats})")
    load_after = common.machine_load()
    print(f"\n{load_before} before, {load_after} after")
    path = common.write_json(
        "models.json",
        {
            "mlflow_version": version,
            "load_before": load_before,
            "load_after": load_after,
            "rows": [r.as_dict() for r in rows],
            "raw": figures,
        },
    )
    print(f"results: {path}")


def _noise_note(value: float) -> str:
    return " NEGATIVE: below the noise of this machine, see the CPU-time row" if value <= 0 else ""


def _pair_rows(
    name: str,
    unit: str,
    scale: float,
    mine: dict[str, Any],
    theirs: dict[str, Any] | None,
    target: float | None,
    key: str = "overhead",
    note: str = "",
) -> list[Row]:
    """A wall-time row and a CPU-time row for paired overheads (CPU time is robust to load)."""
    wall = common.median(mine[key]) * scale
    cpu = common.median(mine[f"cpu_{key}"]) * scale
    return [
        Row(
            f"{name} (wall)",
            unit,
            wall if wall > 0 else None,
            mlflow_sqlite=common.median(theirs[key]) * scale if theirs else None,
            target=target,
            note=note + _noise_note(wall),
            samples={"gitrun": mine[key], **({"mlflow": theirs[key]} if theirs else {})},
        ),
        Row(
            f"{name} (CPU)",
            unit,
            cpu if cpu > 0 else None,
            mlflow_sqlite=common.median(theirs[f"cpu_{key}"]) * scale if theirs else None,
            target=target,
            note=_noise_note(cpu).replace(", see the CPU-time row", ""),
            samples={"gitrun": mine[f"cpu_{key}"], **({"mlflow": theirs[f"cpu_{key}"]} if theirs else {})},
        ),
    ]


def rows_of(figures: dict[str, dict[str, Any]]) -> list[Row]:
    rows: list[Row] = []
    sk = figures.get("sklearn_autolog", {})
    for case, label in (("in_run", "in an open run"), ("no_run", "no run open")):
        mine = sk["gitrun"][case]
        note = f"RF fit alone {common.median(mine['alone']):.3f} s (gitrun side)."
        theirs = sk.get("mlflow", {}).get(case)
        rows += _pair_rows(f"sklearn autolog overhead, {label}", "s", 1, mine, theirs, 25, note=note)
    lm = figures.get("log_model", {})
    for label in ("logistic_regression", "random_forest_100"):
        mine, theirs = lm["gitrun"][label], lm.get("mlflow", {}).get(label)
        note = "MLflow: cloudpickle (skops refuses a forest)" if label.startswith("random") else ""
        for kind, key in (("wall", "median"), ("CPU", "cpu_median")):
            rows.append(
                Row(
                    f"sklearn.log_model, {label} ({kind})",
                    "s",
                    mine[key],
                    mlflow_sqlite=theirs[key] if theirs else None,
                    note=note,
                )
            )
    ka = figures.get("keras_autolog")
    if ka:
        mine, theirs = ka["gitrun"], ka.get("mlflow")
        epochs = mine["epochs"]
        for part in (mine, *([theirs] if theirs else [])):
            part["per_epoch"] = [d / epochs for d in part["overhead"]]
            part["cpu_per_epoch"] = [d / epochs for d in part["cpu_overhead"]]
        note = f"{epochs}-epoch fit alone {common.median(mine['alone']):.2f} s (gitrun side)."
        rows += _pair_rows(
            "keras autolog overhead per epoch", "ms", 1e3, mine, theirs, None, "per_epoch", note
        )
    return rows


if __name__ == "__main__":
    main()
