"""Recording a run around any command (``gitrun run -- COMMAND``).

The command runs as a child process that sees the run in its environment:

* ``GITRUN_RUN_ID`` — gitrun calls inside the child (``start_run()``, or any
  ``log_*``) resume this run instead of creating a second one;
* ``GITRUN_TRACKING_URI`` — where the run is recorded;
* ``GITRUN_PARAMS`` — every param as a JSON object, and ``GITRUN_PARAM_<NAME>`` for
  each one (name upper-cased, other characters as ``_``);
* ``{name}`` in the command's arguments is replaced by the param's value.

stdout and stderr are shown live and saved as the artifact ``gitrun-run.log``. The
exit code decides the status: 0 is FINISHED, another code FAILED, a signal KILLED.
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import IO, Any

from gitrun.errors import InvalidParameterValue
from gitrun.tracking import validation as v
from gitrun.tracking.client import Client

LOG_ARTIFACT = "gitrun-run.log"
_PLACEHOLDER = re.compile(r"\{([/\w.\- :]+)\}")


@dataclass(frozen=True)
class CommandResult:
    run_id: str
    status: str
    returncode: int


def parse_params(pairs: Sequence[str], params_file: str | None) -> dict[str, str]:
    """``-P key=value`` pairs over the (flattened) content of a YAML/JSON file."""
    params: dict[str, str] = {}
    if params_file is not None:
        from gitrun.core.records import yamlfmt

        try:
            with open(params_file, encoding="utf-8") as fh:
                data = yamlfmt.safe_load(fh.read(), params_file)
        except OSError as exc:
            raise InvalidParameterValue(f"cannot read params file {params_file}: {exc.strerror}") from None
        if not isinstance(data, dict):
            raise InvalidParameterValue(f"params file {params_file} must hold a mapping of names to values")
        params.update(flatten(data))
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key:
            raise InvalidParameterValue(f"-P expects key=value, got {pair!r}")
        params[key.strip()] = value
    for key in params:
        v.validate_key(key, "param")
    return params


def flatten(data: Mapping[str, Any], prefix: str = "") -> dict[str, str]:
    out: dict[str, str] = {}
    for key, value in data.items():
        name = f"{prefix}{key}"
        if isinstance(value, Mapping):
            out.update(flatten(value, name + "."))
        else:
            out[name] = str(value)
    return out


def substitute(command: Sequence[str], params: Mapping[str, str]) -> list[str]:
    def replace(match: re.Match[str]) -> str:
        key = match.group(1)
        return params[key] if key in params else match.group(0)

    return [_PLACEHOLDER.sub(replace, arg) for arg in command]


def script_name(argv: Sequence[str]) -> str:
    """The user's script in a command line (``python train.py`` -> ``train.py``)."""
    for arg in argv[1:] if os.path.basename(argv[0]).startswith("python") else argv[:1]:
        if not arg.startswith("-"):
            return arg
    return argv[0]


def child_environment(
    run_id: str, tracking_uri: str, params: Mapping[str, str], *, movable: bool = False
) -> dict[str, str]:
    env = dict(os.environ)
    env["GITRUN_RUN_ID"] = run_id
    env.pop("MLFLOW_RUN_ID", None)
    if movable:
        env["GITRUN_RUN_MOVABLE"] = run_id  # the script's set_experiment may move the run
    else:
        env.pop("GITRUN_RUN_MOVABLE", None)
    env["GITRUN_TRACKING_URI"] = tracking_uri
    env["GITRUN_PARAMS"] = json.dumps(dict(params))
    env.setdefault("PYTHONUNBUFFERED", "1")  # show a Python child's output live
    for key, value in params.items():
        env["GITRUN_PARAM_" + re.sub(r"\W", "_", key).upper()] = value
    return env


class CannotStart(InvalidParameterValue):
    """The command could not be started; no run was recorded."""


def check_startable(argv: Sequence[str]) -> None:
    """Refuse, before any run exists, a command that cannot start.

    Raises:
        CannotStart: The program is not found or not executable, or it is Python and
            the script it is given does not exist.
    """
    import shutil

    program = argv[0]
    if os.sep in program or (os.altsep and os.altsep in program):
        if not os.path.exists(program):
            raise CannotStart(f"command not found: {program} (nothing was recorded)")
        if not os.access(program, os.X_OK) or os.path.isdir(program):
            raise CannotStart(f"command is not executable: {program} (nothing was recorded)")
    elif shutil.which(program) is None:
        raise CannotStart(
            f"command not found: {program} (nothing was recorded; is it installed and on PATH?)"
        )
    if os.path.basename(program).startswith("python") and len(argv) > 1:
        script = argv[1]
        if not script.startswith("-") and script.endswith(".py") and not os.path.exists(script):
            raise CannotStart(
                f"{program} cannot open {script}: no such file in {os.getcwd()} (nothing was recorded)"
            )


def _pump(source: IO[bytes], sink: IO[bytes], log: IO[bytes], lock: threading.Lock) -> None:
    read = getattr(source, "read1", source.read)
    for chunk in iter(lambda: read(65536), b""):
        sink.write(chunk)
        sink.flush()
        with lock:
            log.write(chunk)


def run_command(
    client: Client,
    command: Sequence[str],
    *,
    experiment_id: str,
    run_name: str | None,
    params: Mapping[str, str],
    tags: Mapping[str, str] | None = None,
    inputs: Sequence[str] = (),
    movable: bool = False,
) -> CommandResult:
    """Run ``command`` as a recorded run and return how it ended.

    Nothing is recorded when the command cannot start (not found, not executable, a
    Python script that does not exist).  ``movable``: the script may move the run to
    the experiment it sets with ``set_experiment``.
    """
    if not command:
        raise InvalidParameterValue("gitrun run needs a command after --")
    argv = substitute(command, params)
    check_startable(argv)
    store = client.store
    from gitrun.core.records.text import encode_captured, readable, shell_join
    from gitrun.tracking.capture import source
    from gitrun.tracking.capture.secrets import redact_argv

    # What is recorded: secret-looking values redacted, bytes that are not UTF-8 kept
    # exactly in run.yaml (tags get a readable, shell-pastable form).
    recorded = redact_argv(argv)
    all_tags = {
        "gitrun.command": shell_join(recorded),
        "mlflow.user": readable(source.user()),
        "mlflow.source.name": readable(script_name(recorded)),
        "mlflow.source.type": "LOCAL",
        **(tags or {}),
    }
    run_id = store.create_run(experiment_id, run_name=run_name, tags=v.run_tags(all_tags))
    runs = store.runs
    info = runs.read_state(run_id).info
    runs.update_info(
        run_id,
        {
            "command": encode_captured(recorded),
            "source": {**info.get("source", {}), "argv": encode_captured(recorded)},
        },
    )
    if params:
        runs.log_batch(run_id, params={k: v.param_value(k, val) for k, val in params.items()})
    for path in inputs:
        from gitrun.tracking import inputs as run_inputs

        run_inputs.log_input(store, run_id, path)
    runs.flush([run_id])  # the child must find the run in git
    env = child_environment(run_id, store.uri, params, movable=movable)
    with tempfile.NamedTemporaryFile(prefix="gitrun-run-", suffix=".log", delete=False) as log:
        log_path = log.name
        lock = threading.Lock()
        try:
            returncode = _spawn(argv, env, log, lock)
        except CannotStart:
            client.set_terminated(run_id, "FAILED")
            client.delete_run(run_id)  # it never ran: leave no visible run behind
            os.unlink(log_path)
            raise
        except BaseException:
            client.set_terminated(run_id, "FAILED")
            os.unlink(log_path)
            raise
    status = "FINISHED" if returncode == 0 else ("KILLED" if returncode < 0 else "FAILED")
    try:
        client.set_tag(run_id, "gitrun.exit_code", str(returncode))
        _save_log(client, run_id, log_path)
    finally:
        os.unlink(log_path)
        client.set_terminated(run_id, status)
        runs.flush([run_id])
    return CommandResult(run_id, status, returncode)


def _spawn(argv: Sequence[str], env: dict[str, str], log: IO[bytes], lock: threading.Lock) -> int:
    # Ctrl-C or a TERM to gitrun goes to the child, which decides how to end.  The
    # handlers are in place before the child exists, so a signal arriving while it
    # starts is passed on too (not a KeyboardInterrupt that would orphan the child).
    children: list[subprocess.Popen[bytes]] = []
    pending: list[int] = []

    def forward(num: int, _frame: object) -> None:
        if children:
            children[0].send_signal(num)
        else:
            pending.append(num)

    forwarded = {}
    if threading.current_thread() is threading.main_thread():
        for sig in (signal.SIGINT, signal.SIGTERM):
            forwarded[sig] = signal.signal(sig, forward)
    try:
        try:
            proc = subprocess.Popen(list(argv), env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        except FileNotFoundError:
            raise CannotStart(f"command not found: {argv[0]}") from None
        except PermissionError:
            raise CannotStart(f"command is not executable: {argv[0]}") from None
        children.append(proc)
        for num in pending:
            proc.send_signal(num)
        assert proc.stdout is not None and proc.stderr is not None
        pumps = [
            threading.Thread(target=_pump, args=(proc.stdout, sys.stdout.buffer, log, lock), daemon=True),
            threading.Thread(target=_pump, args=(proc.stderr, sys.stderr.buffer, log, lock), daemon=True),
        ]
        for pump in pumps:
            pump.start()
        returncode = proc.wait()
    finally:
        for sig, previous in forwarded.items():
            signal.signal(sig, previous)
    deadline = time.time() + 5
    for pump in pumps:
        pump.join(max(0.0, deadline - time.time()))
    return returncode


def _save_log(client: Client, run_id: str, log_path: str) -> None:
    log_artifact = getattr(client, "log_artifact", None)
    if log_artifact is None:
        return
    folder = tempfile.mkdtemp(prefix="gitrun-log-")
    target = os.path.join(folder, LOG_ARTIFACT)
    try:
        os.replace(log_path, target)
        log_artifact(run_id, target)
    finally:
        if os.path.exists(target):
            os.replace(target, log_path)
        os.rmdir(folder)
