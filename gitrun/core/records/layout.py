"""Where records live in git: ref names, tree paths and file names, defined once.

The records ref's tree::

    gitrun.yaml                          store format (schema version, layout)
    experiments/<experiment_id>.yaml     one experiment
    runs/<i0>/<i1>/<i2>/<run_id>/        one run (i0..i2: first characters of the id)
        run.yaml                         info: status, times, source, code summary
        params.yaml  tags.yaml           mappings key -> string
        metrics.yaml                     latest point of every metric
        inputs.yaml  datasets.yaml       declared input files; dataset inputs
        artifacts.yaml  models.yaml      artifact entries; logged models
        metrics/<key>/<chunk>            metric series, in chunks (see series.py)
        environment.yaml                 python, platform, packages (shared blob)
        code/                            the exact code tree the run ran on
"""

from __future__ import annotations

from gitrun.errors import InvalidParameterValue

SCHEMA_VERSION = 1

RECORDS_REF = "refs/gitrun/records"
REMOTE_RECORDS_REF = "refs/gitrun/remotes/{remote}/records"

STORE_FILE = "gitrun.yaml"
EXPERIMENTS_DIR = "experiments"
RUNS_DIR = "runs"

RUN_FILE = "run.yaml"
PARAMS_FILE = "params.yaml"
TAGS_FILE = "tags.yaml"
METRICS_FILE = "metrics.yaml"
ARTIFACTS_FILE = "artifacts.yaml"
INPUTS_FILE = "inputs.yaml"
DATASETS_FILE = "datasets.yaml"
"""Dataset inputs (``gitrun.log_input(gitrun.data.from_pandas(df), context=...)``)."""
MODELS_FILE = "models.yaml"
"""The run's logged models: ``<name>: {model_id, digest, flavors, params, tags, ...}``."""
METRICS_DIR = "metrics"
ENVIRONMENT_FILE = "environment.yaml"
CODE_DIR = "code"

FANOUT_DEPTH = 3


def run_dir(run_id: str) -> str:
    """``runs/a/b/c/<run_id>``: a 16-ary fan-out keeps every tree small.

    Each commit rewrites the trees along one path; with three levels of 16-way
    fan-out those trees stay below ~2 KB at 100k runs, so the cost of recording a
    run does not grow with the number of runs already recorded.
    """
    if not run_id or "/" in run_id:
        raise InvalidParameterValue(f"invalid run id {run_id!r}")
    padded = run_id.lower().ljust(FANOUT_DEPTH, "_")
    return "/".join([RUNS_DIR, *padded[:FANOUT_DEPTH], run_id])


def experiment_file(experiment_id: str) -> str:
    return f"{EXPERIMENTS_DIR}/{experiment_id}.yaml"


def encode_key(key: str) -> str:
    """A metric key as one tree entry name (keys may contain ``/``)."""
    name = key.replace("%", "%25").replace("/", "%2F")
    if name.startswith("."):
        name = "%2E" + name[1:]
    return name


def decode_key(name: str) -> str:
    if name.startswith("%2E"):
        name = "." + name[3:]
    return name.replace("%2F", "/").replace("%25", "%")
