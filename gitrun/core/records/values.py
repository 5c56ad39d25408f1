"""The frozen values a run store hands out, and the one parser that makes them.

A run's record files (``run.yaml``, ``params.yaml``, ...) are read into a
:class:`RunRecord` here and nowhere else: ``get_run`` builds its entity from one,
the search index builds its row from one, so a run found by a search equals the
same run read by id, and a damaged or crafted record (it may come from a remote) is
refused by the same checks, with the same words, on both paths.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from types import MappingProxyType
from typing import Any, NamedTuple

from gitrun.core.git.objects import Oid
from gitrun.core.git.repo import Repository
from gitrun.core.records import layout, yamlfmt
from gitrun.core.records.text import has_surrogates, printable
from gitrun.errors import GitrunError, InvalidRecord

RUN_STATUSES = frozenset({"RUNNING", "SCHEDULED", "FINISHED", "FAILED", "KILLED"})

RECORD_FILES = (
    layout.RUN_FILE,
    layout.METRICS_FILE,
    layout.PARAMS_FILE,
    layout.TAGS_FILE,
    layout.INPUTS_FILE,
    layout.DATASETS_FILE,
    layout.MODELS_FILE,
)
"""The files of a run directory a :class:`RunRecord` is read from (series chunks,
code, environment and artifact entries are read on demand, by their own modules)."""


# Named tuples in the functional form, with the types as objects: these classes are
# defined by every ``import gitrun``, and as frozen dataclasses (generated code) they
# made it ~8 ms slower (138 vs 128-132 ms, medians of 11 processes); the class form
# of NamedTuple would compile each annotation string (``from __future__ import
# annotations``).  A tuple is also the cheapest record to build, one per run, 100k at
# a full index build.


class RunRecord(
    NamedTuple(
        "RunRecord",
        [
            ("run_id", str),
            ("experiment_id", str),
            ("run_name", str),
            ("status", str),
            ("user_id", str),
            ("artifact_uri", str),
            ("lifecycle_stage", str),
            ("start_time", int),
            ("end_time", int | None),
            ("params", dict[str, str]),
            ("tags", dict[str, str]),
            ("metrics", dict[str, float]),
            ("inputs", Mapping[str, Any]),
            ("datasets", Mapping[str, Any]),
            ("models", Mapping[str, Any]),
            ("info", Mapping[str, Any]),
        ],
    )
):
    """One run as recorded: MLflow's info fields checked and typed, its data (``metrics``:
    the latest value of each), and its mapping files as stored: ``inputs``
    (``inputs.yaml``: declared input files, ``path: {digest, ...}``), ``datasets``
    (``datasets.yaml``: ``<key>: {name, digest, context, ...}``), ``models``
    (``models.yaml``: ``<name>: {model_id, digest, flavors, ...}``), ``info``
    (``run.yaml`` as read: every field when read in full, its top-level scalars when
    read for the index).  Each record is freshly parsed and owns its dicts: whoever
    receives one may keep them."""

    __slots__ = ()


EMPTY: Mapping[str, Any] = MappingProxyType({})
"""The mapping files of a record built without them (a search page's runs)."""


class ExperimentRecord(
    NamedTuple(
        "ExperimentRecord",
        [
            ("experiment_id", str),
            ("name", str),
            ("artifact_location", str),
            ("lifecycle_stage", str),
            ("creation_time", int | None),
            ("last_update_time", int | None),
            ("tags", dict[str, str]),
        ],
    )
):
    """One experiment as recorded (``experiments/<id>.yaml``), checked and typed."""

    __slots__ = ()


def record_files(repo: Repository, tree: Oid) -> dict[str, bytes]:
    """The contents of a run directory's :data:`RECORD_FILES` that exist."""
    entries = repo.read_tree(tree)
    return {name: repo.read_blob(entries[name].oid) for name in RECORD_FILES if name in entries}


def parse_run(run_id: str, files: Mapping[str, bytes], *, full: bool = True) -> RunRecord | None:
    """A run from its record files; None for a directory that holds no run.

    Args:
        full: read all of ``run.yaml`` into :attr:`RunRecord.info` (``get_run``); False
            reads its top-level scalars only (the index, where it is most of the cost).

    Raises:
        InvalidRecord: the record is damaged (unparsable YAML, wrongly typed fields,
            text that is not valid Unicode, or a ``run_id`` other than its directory's).
            The message says what is wrong; callers add which run.
    """
    where = f"run {run_id}"

    def load(name: str, reader: Callable[[bytes, str], Any]) -> Any:
        data = files.get(name)
        return reader(data, f"{where} {name}") if data is not None else {}

    try:
        info = load(layout.RUN_FILE, _load_info if full else yamlfmt.load_top_scalars)
        if not info:
            return None  # not a run directory (or an empty one)
        # The path is the run's identity: a record copied (or crafted) under another
        # run's path must not pass for that run.
        _check_identity(info.get("run_id", run_id), run_id, "its run.yaml names another run")
        metrics = load(layout.METRICS_FILE, yamlfmt.load_latest)
        record = RunRecord(
            run_id=run_id,  # the directory name: what the index finds again later
            experiment_id=text_field(_required(info, "experiment_id"), "experiment_id"),
            run_name=text_field(info.get("run_name") or "", "run_name"),
            status=_status(info.get("status")),
            user_id=text_field(info.get("user_id") or "unknown", "user_id"),
            artifact_uri=text_field(info.get("artifact_uri") or f"runs:/{run_id}", "artifact_uri"),
            lifecycle_stage=text_field(info.get("lifecycle_stage") or "active", "lifecycle_stage"),
            # MLflow runs always have one; 0 keeps the index column NOT NULL.
            start_time=_time(info.get("start_time"), "start_time") or 0,
            end_time=_time(info.get("end_time"), "end_time"),
            params=strings(load(layout.PARAMS_FILE, yamlfmt.load_flat), "params"),
            tags=strings(load(layout.TAGS_FILE, yamlfmt.load_flat), "tags"),
            metrics=metrics,
            inputs=load(layout.INPUTS_FILE, yamlfmt.load_mapping),
            datasets=load(layout.DATASETS_FILE, yamlfmt.load_mapping),
            models=load(layout.MODELS_FILE, yamlfmt.load_mapping),
            info=info,
        )
    except InvalidRecord:
        raise
    except (GitrunError, KeyError, TypeError, ValueError, AttributeError) as exc:
        raise InvalidRecord(f"its record cannot be read ({type(exc).__name__}: {exc})") from None
    for key in metrics:
        text_field(key, "metric key")
    return record


def parse_experiment(experiment_id: str, data: Any) -> ExperimentRecord:
    """An experiment from its parsed ``experiments/<id>.yaml``.

    Raises:
        InvalidRecord: the record is damaged, or names another experiment.
    """
    try:
        _check_mapping(data, "it")
        _check_identity(
            data.get("experiment_id", experiment_id), experiment_id, "it names another experiment"
        )
        return ExperimentRecord(
            experiment_id=experiment_id,
            name=text_field(_required(data, "name"), "name"),
            artifact_location=text_field(data.get("artifact_location") or "", "artifact_location"),
            lifecycle_stage=text_field(data.get("lifecycle_stage") or "active", "lifecycle_stage"),
            creation_time=_int_or_none(data.get("creation_time")),
            last_update_time=_int_or_none(data.get("last_update_time")),
            tags=strings(data.get("tags") or {}, "tags"),
        )
    except InvalidRecord:
        raise
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        raise InvalidRecord(f"its record cannot be read ({type(exc).__name__}: {exc})") from None


def _load_info(data: bytes, where: str) -> dict[str, Any]:
    info = yamlfmt.load(data, where)
    if info is None:
        return {}
    _check_mapping(info, "its run.yaml")
    return dict(info)


def _check_mapping(data: Any, what: str) -> None:
    if not isinstance(data, dict):
        raise InvalidRecord(f"{what} should hold a mapping, found {type(data).__name__}")


def _check_identity(recorded: Any, expected: str, says: str) -> None:
    if str(recorded) != expected:
        raise InvalidRecord(f"{says} ({printable(str(recorded))!r})")


def _required(data: Mapping[str, Any], key: str) -> Any:
    if data.get(key) is None:
        raise InvalidRecord(f"its {key} is missing")
    return data[key]


def _int_or_none(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _time(value: Any, what: str) -> int | None:
    if value is None:
        return None
    if not isinstance(value, int) or isinstance(value, bool):
        raise InvalidRecord(f"its {what} is {printable(repr(value))}, expected a time in milliseconds")
    return value


def text_field(value: Any, what: str) -> str:
    """A scalar field as text; text that is not valid Unicode is damage.

    (Both YAML readers refuse lone surrogates already: this is the last line.)"""
    if type(value) is str:
        if has_surrogates(value):
            raise InvalidRecord(f"its {what} is not valid Unicode")
        return value
    if isinstance(value, (dict, list)):
        raise InvalidRecord(f"its {what} is a {type(value).__name__}, not text")
    return str(value)


def strings(data: Mapping[Any, Any], what: str) -> dict[str, str]:
    """A mapping of text to text (params, tags), checked."""
    if not isinstance(data, Mapping):
        raise InvalidRecord(f"its {what} are a {type(data).__name__}, not a mapping")
    if all(type(k) is str and type(v) is str for k, v in data.items()):
        if has_surrogates("".join(data) + "".join(data.values())):
            raise InvalidRecord(f"its {what} are not valid Unicode")
        return dict(data)
    return {text_field(k, f"{what} key"): text_field(v, f"{what} value") for k, v in data.items()}


def _status(value: Any) -> str:
    if value not in RUN_STATUSES:
        raise InvalidRecord(f"its status {printable(str(value))!r} is not a run status")
    return str(value)
