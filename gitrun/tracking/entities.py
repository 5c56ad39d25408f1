"""Values returned by the tracking API, shaped like MLflow's entities."""

from __future__ import annotations

import functools
import itertools
import math
import operator
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

from gitrun.core.allocation import collector_paused

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


class Metric(tuple):  # type: ignore[type-arg]
    """One point of a metric series (immutable).

    A tuple underneath: ``get_metric_history`` builds hundreds of thousands of these,
    and creating a tuple subclass from C (see :meth:`many`) is ~5x cheaper than
    running an ``__init__``.
    """

    __slots__ = ()

    def __new__(
        cls,
        key: str,
        value: float,
        timestamp: int,
        step: int,
        run_id: str | None = None,
        dataset_name: str | None = None,
        dataset_digest: str | None = None,
        model_id: str | None = None,
    ) -> Metric:
        if dataset_name is None and dataset_digest is None and model_id is None:
            return tuple.__new__(cls, (key, value, timestamp, step, run_id))
        return tuple.__new__(
            cls, (key, value, timestamp, step, run_id, dataset_name, dataset_digest, model_id)
        )

    key: str = property(operator.itemgetter(0))  # type: ignore[assignment]
    value: float = property(operator.itemgetter(1))  # type: ignore[assignment]
    timestamp: int = property(operator.itemgetter(2))  # type: ignore[assignment]
    step: int = property(operator.itemgetter(3))  # type: ignore[assignment]
    run_id: str | None = property(operator.itemgetter(4))  # type: ignore[assignment]

    @property
    def dataset_name(self) -> str | None:
        return self[5] if len(self) > 5 else None

    @property
    def dataset_digest(self) -> str | None:
        return self[6] if len(self) > 6 else None

    @property
    def model_id(self) -> str | None:
        return self[7] if len(self) > 7 else None

    @classmethod
    def many(
        cls,
        key: str,
        values: Iterable[float],
        timestamps: Iterable[int],
        steps: Iterable[int],
        run_id: str | None,
    ) -> list[Metric]:
        """Build a whole series without a Python-level call per point."""
        make = functools.partial(tuple.__new__, cls)
        rows = zip(itertools.repeat(key), values, timestamps, steps, itertools.repeat(run_id))
        with collector_paused():  # hundreds of thousands of tuples, none in a cycle
            return list(map(make, rows))

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Metric):
            return NotImplemented
        same_value = self.value == other.value or (math.isnan(self.value) and math.isnan(other.value))
        return (self.key, self.timestamp, self.step) == (
            other.key,
            other.timestamp,
            other.step,
        ) and same_value

    __hash__ = tuple.__hash__

    def __repr__(self) -> str:
        return f"<Metric: key={self.key!r}, step={self.step}, timestamp={self.timestamp}, value={self.value}>"

    def to_dictionary(self) -> dict[str, Any]:
        return {"key": self.key, "value": self.value, "timestamp": self.timestamp, "step": self.step}


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
class InputTag:
    key: str
    value: str


@dataclass(frozen=True)
class Dataset:
    """A dataset input of a run (MLflow's ``Dataset``); for a declared input file,
    ``name`` is its path and ``digest`` its content address."""

    name: str
    digest: str
    source_type: str
    source: str
    schema: str | None = None
    profile: str | None = None


@dataclass(frozen=True)
class DatasetInput:
    dataset: Dataset
    tags: list[InputTag] = field(default_factory=list)


@dataclass(frozen=True)
class RunInputs:
    dataset_inputs: list[DatasetInput] = field(default_factory=list)
    model_inputs: list[Any] = field(default_factory=list)


@dataclass(frozen=True)
class LoggedModelOutput:
    """A model a run logged (``run.outputs.model_outputs``), and at which step."""

    model_id: str
    step: int = 0


@dataclass(frozen=True)
class RunOutputs:
    model_outputs: list[Any] = field(default_factory=list)


class LoggedModelStatus:
    PENDING = "PENDING"
    READY = "READY"
    FAILED = "FAILED"


@dataclass(frozen=True)
class LoggedModel:
    """A model logged by a run (MLflow 3's ``LoggedModel``).

    In gitrun the model's files are the artifact folder ``<name>/`` of its run
    (``artifact_location`` is ``runs:/<run_id>/<name>``); ``digest`` is the
    content address of that folder, so two logs of identical models share it.
    """

    model_id: str
    name: str
    experiment_id: str
    source_run_id: str | None
    artifact_location: str
    creation_timestamp: int
    last_updated_timestamp: int
    digest: str
    status: str = LoggedModelStatus.READY
    model_type: str | None = None
    step: int = 0
    flavors: tuple[str, ...] = ()
    params: dict[str, str] = field(default_factory=dict)
    tags: dict[str, str] = field(default_factory=dict)
    metrics: list[Metric] = field(default_factory=list)

    @property
    def model_uri(self) -> str:
        return f"models:/{self.model_id}"


@dataclass(frozen=True)
class Run:
    info: RunInfo
    data: RunData
    inputs: RunInputs = field(default_factory=RunInputs)
    outputs: RunOutputs = field(default_factory=RunOutputs)
    record: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)
    """Everything gitrun recorded beyond MLflow's fields (source, code, environment)."""

    def _repr_html_(self) -> str:
        from gitrun.tracking.html import run_html

        return run_html(self)

    def to_dictionary(self) -> dict[str, Any]:
        return {
            "info": dict(self.info.__dict__),
            "data": {
                "metrics": dict(self.data.metrics),
                "params": dict(self.data.params),
                "tags": dict(self.data.tags),
            },
        }


def run_from_fields(
    run_id: str,
    experiment_id: str,
    run_name: str,
    status: str,
    user_id: str,
    artifact_uri: str,
    lifecycle_stage: str,
    start_time: int,
    end_time: int | None,
    params: dict[str, str],
    tags: dict[str, str],
    metrics: dict[str, float],
) -> Run:
    """A :class:`Run` with empty inputs, outputs and record, built for search pages.

    Equal to ``Run(RunInfo(...), RunData(...))``, at half the cost: a frozen
    dataclass's ``__init__`` pays an ``object.__setattr__`` per field, and a page of
    a thousand runs builds five objects per run.  Filling ``__dict__`` directly is
    safe for these classes: they have no ``__post_init__`` and no slots, and every
    field is given here (tests compare the two constructions field by field).
    """
    info = _new(RunInfo)
    info.__dict__.update(
        run_id=run_id,
        run_name=run_name,
        experiment_id=experiment_id,
        user_id=user_id,
        status=status,
        start_time=start_time,
        end_time=end_time,
        artifact_uri=artifact_uri,
        lifecycle_stage=lifecycle_stage,
    )
    data = _new(RunData)
    data.__dict__.update(metrics=metrics, params=params, tags=tags)
    inputs = _new(RunInputs)
    inputs.__dict__.update(dataset_inputs=[], model_inputs=[])
    outputs = _new(RunOutputs)
    outputs.__dict__["model_outputs"] = []
    run = _new(Run)
    run.__dict__.update(info=info, data=data, inputs=inputs, outputs=outputs, record={})
    return run


_new = object.__new__


@dataclass(frozen=True)
class Experiment:
    experiment_id: str
    name: str
    artifact_location: str
    lifecycle_stage: str
    tags: dict[str, str] = field(default_factory=dict)
    creation_time: int | None = None
    last_update_time: int | None = None

    def _repr_html_(self) -> str:
        from gitrun.tracking.html import experiment_html

        return experiment_html(self)


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

    def _repr_html_(self) -> str:
        """Runs or experiments as a table in a notebook."""
        from gitrun.tracking import html

        if self and all(isinstance(i, Experiment) for i in self):
            return html.experiments_html(self)
        if all(isinstance(i, Run) for i in self):
            return html.runs_html(self)
        import html as escaping

        return escaping.escape(repr(list(self)))
