"""The process environment the fluent API shares with child processes (MLflow's semantics).

A script's children (``subprocess``, ``multiprocessing``, DDP workers) inherit
``os.environ``; gitrun starts none of them itself, so the variables cannot be passed
explicitly and must live in the environment, as MLflow keeps them
(reference §2, §3.1, §3.2, §16):

* ``set_experiment`` exports ``GITRUN_EXPERIMENT_ID`` (MLflow: ``MLFLOW_EXPERIMENT_ID``),
  so that runs the children start go to the same experiment;
* ``start_run`` takes ``GITRUN_RUN_ID``/``MLFLOW_RUN_ID`` (set by ``gitrun run`` or the
  user) out of the environment as it resumes that run, and ``end_run`` clears it, so
  that a later ``start_run`` or a child does not resume it again.

This module is the only place the tracking API writes the environment besides
:mod:`gitrun.tracking.uri` (``GITRUN_TRACKING_URI``); the fluent modules only call it.
"""

from __future__ import annotations

import os

RUN_ID_ENVS = ("GITRUN_RUN_ID", "MLFLOW_RUN_ID")
MOVABLE_ENV = "GITRUN_RUN_MOVABLE"
"""Set by ``gitrun run`` when no experiment was asked for: the run it created may move to
the experiment the script chooses with ``set_experiment`` (MLflow's CLI would refuse)."""
EXPERIMENT_ID_ENV = "GITRUN_EXPERIMENT_ID"


def export_experiment_id(experiment_id: str) -> None:
    """What ``set_experiment`` chose, for the children's runs."""
    os.environ[EXPERIMENT_ID_ENV] = experiment_id


def take_run_id() -> tuple[str | None, bool]:
    """The run to resume given by the environment (removed from it), and whether
    ``gitrun run`` allows it to move to the script's experiment."""
    for name in RUN_ID_ENVS:
        if os.environ.get(name):
            run_id = os.environ.pop(name)
            return run_id, os.environ.pop(MOVABLE_ENV, "") == run_id
    return None, False


def clear_run_id() -> None:
    """A run ended: neither a later ``start_run`` nor a child resumes it."""
    for name in RUN_ID_ENVS:
        os.environ.pop(name, None)
