"""Values returned by the tracking API, shaped like MLflow's entities."""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

T = TypeVar("T")


class RunStatus:
    RUNNING = "RUNNING"
    SCHEDULED = "SCHEDULED"
    FINISHED = "FINISHED"
    FAILED = "FAILED"
    KILLED = "KILLED"

    _ALL = ("RUNNING", "SCHEDULED", "FINISHED", "FAILED", "KILLED")
    _NUMBERS = {name: i + 1 for i, name in enumerate(_ALL)}

    @classmethod
    def all_status(cls) -> list[str]:
        return list(cls._ALL)

    @classmethod
    def is_terminated(cls, status: str) -> bool:
        return status in ("FINISHED", "FAILED", "KILLED")

    @classmethod
    def from_string(cls, status: str) -> int:
        if status not in cls._NUMBERS:
            raise Exception(  # noqa: TRY002 - MLflow raises a plain Exception here
                f"Could not get run status corresponding to string {status}. Valid run status "
                f"strings: {list(cls._ALL)}"
            )
        return cls._NUMBERS[status]

    @classmethod
    def to_string(cls, number: int) -> str:
        return cls._ALL[number - 1]


class LifecycleStage:
    ACTIVE = "active"
    DELETED = "deleted"


class ViewType:
    ACTIVE_ONLY = 1
    DELETED_ONLY = 2
    ALL = 3

    @classmethod
    def from_string(cls, view: str) -> int:
        names = {"ACTIVE_ONLY": 1, "DELETED_ONLY": 2, "ALL": 3}
        key = view.upper()
        if key not in names:
            raise ValueError(f"unknown view type {view!r}")
        return names[key]


class Metric:
    """One point of a metric series."""

    __slots__ = ("key", "value", "timestamp", "step", "run_id", "dataset_name", "dataset_digest",
                 "model_id")

    def __init__(self, key: str, value: float, timestamp: int, step: int, run_id: str | None = None,
                 dataset_name: str | None = None, dataset_digest: str | None = None,
                 model_id: str | None = None) -> None:
        self.key = key
        self.value = value
        self.timestamp = timestamp
        self.step = step
        self.run_id = run_id
        self.dataset_name = dataset_name
        self.dataset_digest = dataset_digest
        self.model_id = model_id

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Metric):
            return NotImplemented
        same_value = self.value == other.value or (math.isnan(self.value) and math.isnan(other.value))
        return (self.key, self.timestamp, self.step) == (other.key, other.timestamp, other.step) and same_value

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return f"<Metric: key={self.key!r}, step={self.step}, timestamp={self.timestamp}, value={self.value}>"


@dataclass(frozen=True)
class Param:
    key: str
    value: str


@dataclass(frozen=True)
class RunTag:
    key: str
    value: str


@dataclass(frozen=True)
class ExperimentTag:
    key: str
    value: str


@dataclass(frozen=True)
class RunInfo:
    run_id: str
    run_name: str
    experiment_id: str
    user_id: str
    status: str
    start_time: int
    end_time: int | None
    artifact_uri: str
    lifecycle_stage: str

    @property
    def run_uuid(self) -> str:
        return self.run_id


@dataclass(frozen=True)
class RunData:
    metrics: dict[str, float] = field(default_factory=dict)
    params: dict[str, str] = field(default_factory=dict)
    tags: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class RunInputs:
    dataset_inputs: list[Any] = field(default_factory=list)
    model_inputs: list[Any] = field(default_factory=list)


@dataclass(frozen=True)
class RunOutputs:
    model_outputs: list[Any] = field(default_factory=list)


@dataclass(frozen=True)
class Run:
    info: RunInfo
    data: RunData
    inputs: RunInputs = field(default_factory=RunInputs)
    outputs: RunOutputs = field(default_factory=RunOutputs)
    record: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)
    """Everything gitrun recorded beyond MLflow's fields (source, code, environment)."""

    def to_dictionary(self) -> dict[str, Any]:
        return {
            "info": dict(self.info.__dict__),
            "data": {"metrics": dict(self.data.metrics), "params": dict(self.data.params),
                     "tags": dict(self.data.tags)},
        }


@dataclass(frozen=True)
class Experiment:
    experiment_id: str
    name: str
    artifact_location: str
    lifecycle_stage: str
    tags: dict[str, str] = field(default_factory=dict)
    creation_time: int | None = None
    last_update_time: int | None = None


@dataclass(frozen=True)
class FileInfo:
    path: str
    is_dir: bool
    file_size: int | None


class PagedList(list[T], Generic[T]):
    """A list with the token of the next page (None on the last page)."""

    def __init__(self, items: Iterable[T], token: str | None) -> None:
        super().__init__(items)
        self.token = token
