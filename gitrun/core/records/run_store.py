"""The one door between the tracking API and a run's storage: the :class:`RunStore`.

The tracking layer (``Client``, the fluent API, integrations through them) reads and
writes runs only through these primitives.  Two stores implement them and pass one
contract suite (``tests/core/records/test_run_store_contract.py``):

- :class:`gitrun.core.records.git_run_store.GitRunStore`, the real one: buffered
  writes journaled then committed on the records ref, crashed journals replayed when
  it opens;
- :class:`gitrun.core.records.memory_run_store.MemoryRunStore`, plain dicts: the
  executable statement of the semantics, and a store for tests of the layers above.

Values cross the door as plain data: info and map files as mappings, tags and params
as text, metric points as columns, a run read back as a frozen
:class:`~gitrun.core.records.values.RunRecord`.  Validation of user input (key
names, value types, MLflow's limits) is the tracking layer's job and happens before
a call reaches here; a store enforces only what keeps a record consistent
(params are write-once, a deleted run takes no writes, a run id is created once).
"""

from __future__ import annotations

from array import array
from collections.abc import Iterable, Mapping, Sequence
from typing import Any, NamedTuple, Protocol

from gitrun.core.records.pending import FileValue
from gitrun.core.records.values import RunRecord

__all__ = ["FileValue", "MetricColumns", "RunState", "RunStore", "SeriesChunk"]

SeriesChunk = tuple["array[int]", "array[int]", "array[float]"]
"""Part of a metric series as ``(steps, timestamps, values)`` columns."""


# Functional named tuples with the types as objects: see values.RunRecord for why.


class MetricColumns(
    NamedTuple(
        "MetricColumns",
        [
            ("keys", Sequence[str]),
            ("values", Sequence[float]),
            ("steps", Sequence[int]),
            ("timestamps", Sequence[int]),
        ],
    )
):
    """Metric points as columns (one entry per point): how batches are logged."""

    __slots__ = ()


class RunState(
    NamedTuple(
        "RunState",
        [
            ("info", Mapping[str, Any]),
            ("tags", Mapping[str, str]),
            ("maps", Mapping[str, Mapping[str, Any]]),
            ("files", Mapping[str, FileValue]),
        ],
    )
):
    """A run as this process sees it now, buffered changes included, read without
    committing anything (what a writer needs to decide its next write): its info and
    tags, the mapping files asked for (``artifacts.yaml``, ``models.yaml``...; {} when
    absent) and the extra tree entries asked for (``code``, ``environment.yaml``:
    ``(mode, object id)``; absent ones left out)."""

    __slots__ = ()


class RunStore(Protocol):
    """Where runs are recorded.  Every method names its run; unknown runs raise
    :class:`~gitrun.errors.ResourceDoesNotExist`, writes to a deleted run raise
    :class:`~gitrun.errors.InvalidParameterValue` (unless ``allow_deleted``)."""

    # -- writing --------------------------------------------------------------------------

    def create_run(
        self,
        run_id: str,
        info: Mapping[str, Any],
        tags: Mapping[str, str],
        files: Mapping[str, FileValue],
        *,
        owned: bool = True,
    ) -> None:
        """Record a new run.  ``owned``: this process runs it; if the process dies while
        the run is RUNNING, the run is marked KILLED (by the next process to open the
        store).  Raises InvalidParameterValue if this store created the id already."""
        ...

    def open_run(self, run_id: str, *, owned: bool) -> None:
        """Start writing to an existing run (``owned``: take it over, as above)."""
        ...

    def log_metric(self, run_id: str, key: str, value: float, step: int, timestamp: int) -> None:
        """Append one point to a series (the training loop's hot path)."""
        ...

    def log_batch(
        self,
        run_id: str,
        *,
        params: Mapping[str, str] | None = None,
        metrics: MetricColumns | None = None,
        tags: Mapping[str, str] | None = None,
        delete_tags: Iterable[str] = (),
    ) -> None:
        """Params (write-once: a different value raises InvalidParameterValue, an equal
        one is a no-op), then metric points, then tags set and deleted (deleting a tag
        the run lacks raises ResourceDoesNotExist)."""
        ...

    def update_info(self, run_id: str, fields: Mapping[str, Any], *, allow_deleted: bool = False) -> None:
        """Set fields of ``run.yaml`` (status, end time, lifecycle stage, name...)."""
        ...

    def update_map(
        self, run_id: str, name: str, items: Mapping[str, Any], delete: Iterable[str] = ()
    ) -> None:
        """Set and delete keys of a mapping file of the run (they merge key by key when
        two writers change one run)."""
        ...

    def put_files(self, run_id: str, files: Mapping[str, FileValue]) -> None:
        """Set (or remove, with None) extra entries of the run's tree."""
        ...

    # -- reading --------------------------------------------------------------------------

    def read_state(self, run_id: str, *, maps: Iterable[str] = (), files: Iterable[str] = ()) -> RunState:
        """The run as this process sees it, buffered changes included; commits nothing."""
        ...

    def read_run(self, run_id: str) -> RunRecord:
        """The run as recorded, with every write this process made to it (committed
        first if needed: read-your-writes).  Raises InvalidRecord if it is damaged."""
        ...

    def metric_series(self, run_id: str, key: str) -> list[SeriesChunk]:
        """A metric's points in logging order, as column chunks; [] if never logged."""
        ...

    def run_exists(self, run_id: str) -> bool: ...

    def is_live(self, run_id: str) -> bool:
        """Whether this process holds state of the run (it wrote or loaded it)."""
        ...

    # -- lifecycle ------------------------------------------------------------------------

    def flush(self, run_ids: Iterable[str] | None = None) -> None:
        """Make buffered writes (of these runs, or of all) durable and visible to others."""
        ...

    def release(self, run_id: str) -> None:
        """This process stops owning the run (it ended)."""
        ...

    def close(self) -> None:
        """Flush everything; the store takes no more writes."""
        ...
