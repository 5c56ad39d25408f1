"""Artifacts of runs: the stores a tracking location uses, run records of artifacts,
logging, reading, and moving objects between the local store and the shared one.

The public, MLflow-shaped functions are on :class:`gitrun.Client`, in the fluent
API and in :mod:`gitrun.artifacts`; this package is what they delegate to.
"""
