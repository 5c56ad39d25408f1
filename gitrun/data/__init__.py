"""Datasets (MLflow's ``mlflow.data``): name, content digest, source, schema, profile.

``gitrun.log_input(gitrun.data.from_pandas(df, source="train.csv"), context="training")``
records a dataset input; ``gitrun.search_runs(filter_string="dataset.digest = '...'")``
finds every run that used the same data.  pandas and numpy are imported only
when a dataset is built.  See docs/datasets.md.
"""

from __future__ import annotations

from gitrun.data.dataset import (
    Dataset,
    HuggingFaceDataset,
    NumpyDataset,
    PandasDataset,
    from_huggingface,
    from_numpy,
    from_pandas,
)
from gitrun.data.sources import DatasetSource

__all__ = [
    "Dataset",
    "DatasetSource",
    "HuggingFaceDataset",
    "NumpyDataset",
    "PandasDataset",
    "from_huggingface",
    "from_numpy",
    "from_pandas",
    "get_source",
]


def get_source(dataset: Dataset | object) -> DatasetSource:
    """The source of a dataset (or of a run's ``DatasetInput.dataset`` entity)."""
    import json

    from gitrun.data.sources import DatasetSource as Source

    if isinstance(dataset, Dataset):
        return dataset.source
    source_type = str(getattr(dataset, "source_type", ""))
    return Source(source_type, json.loads(str(getattr(dataset, "source", "{}")) or "{}"))
