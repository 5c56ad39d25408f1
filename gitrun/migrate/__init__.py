"""Moving runs between MLflow stores and gitrun: ``gitrun import-mlflow`` / ``export-mlflow``.

Sources are read without MLflow installed: the file store (``mlruns``: YAML and text
files), SQL stores (sqlite through the standard library, other databases through
SQLAlchemy when the user has it and the driver), and a running MLflow server over its
REST API.  Writing goes through the tracking layer (:mod:`gitrun.tracking.imports`).
"""
