"""The model registry across two clones and a bare remote: register and promote on one
machine, push; fetch on the other and load the same bytes; conflicting alias moves and
version numbers resolve deterministically and stay visible in `git log`."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
import time
from pathlib import Path

from tests.cli.test_run_cli import gitrun_cli
from tests.conftest import git

TRAIN = textwrap.dedent("""\
    import sys, gitrun
    import numpy as np
    from sklearn.linear_model import LogisticRegression
    rng = np.random.RandomState(0)
    X = rng.rand(50, 3)
    C = float(sys.argv[1])
    with gitrun.start_run():
        info = gitrun.sklearn.log_model(LogisticRegression(C=C).fit(X, X[:, 0] > 0.5), "model")
    print(info.model_uri)
""")

# Load a registry URI and report what was loaded: the model file's bytes and predictions.
LOAD = textwrap.dedent("""\
    import hashlib, json, sys, tempfile, gitrun
    import numpy as np
    uri = sys.argv[1]
    with tempfile.TemporaryDirectory() as tmp:
        gitrun.pyfunc.load_model(uri, dst_path=tmp)
        import pathlib
        data = next(pathlib.Path(tmp).rglob("model.pkl")).read_bytes()
    model = gitrun.sklearn.load_model(uri)
    X = np.random.RandomState(0).rand(50, 3)
    print(json.dumps({"sha256": hashlib.sha256(data).hexdigest(),
                      "proba": model.predict_proba(X)[:3].round(12).tolist()}))
""")


def python(clone: Path, who: str, code: str, *args: str) -> str:
    env = dict(os.environ, GIT_COMMITTER_NAME=who, GIT_COMMITTER_EMAIL=f"{who}@example.com")
    done = subprocess.run(
        [sys.executable, "-c", code, *args],
        cwd=clone,
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout.strip()


def client_call(clone: Path, who: str, call: str) -> str:
    return python(clone, who, f"import gitrun\nc = gitrun.MlflowClient()\nprint({call})")


def cli(clone: Path, who: str, *args: str) -> str:
    env_before = dict(os.environ)
    os.environ.update(GIT_COMMITTER_NAME=who, GIT_COMMITTER_EMAIL=f"{who}@example.com")
    try:
        done = gitrun_cli(clone, *args)
    finally:
        os.environ.clear()
        os.environ.update(env_before)
    assert done.returncode == 0, done.stderr
    return done.stdout


def test_registry_travels_and_conflicts_resolve(work_repo: Path, tmp_path: Path) -> None:
    shared = tmp_path / "shared-artifacts"
    (work_repo / ".gitrun.yaml").write_text(json.dumps({"artifacts": {"remote": str(shared)}}))
    (work_repo / "train.py").write_text(TRAIN)
    git(work_repo, "add", ".gitrun.yaml", "train.py")
    git(work_repo, "commit", "-q", "-m", "train")
    remote = tmp_path / "team.git"
    git(tmp_path, "clone", "-q", "--bare", str(work_repo), str(remote))
    alice, bob = tmp_path / "alice", tmp_path / "bob"
    for clone in (alice, bob):
        git(tmp_path, "clone", "-q", str(remote), str(clone))

    # Alice registers and promotes, then pushes runs, artifacts and the registry.
    first = python(alice, "alice", TRAIN, "1.0")
    second = python(alice, "alice", TRAIN, "0.05")
    cli(alice, "alice", "models", "register", first, "churn")
    cli(alice, "alice", "models", "register", second, "churn")
    cli(alice, "alice", "models", "alias", "churn", "champion", "1")
    cli(alice, "alice", "push")
    assert (
        git(remote, "rev-parse", "refs/gitrun/registry").strip()
        == git(alice, "rev-parse", "refs/gitrun/registry").strip()
    )

    # Bob fetches and loads the champion: the same bytes, the same predictions.
    cli(bob, "bob", "fetch")
    at_alice = json.loads(python(alice, "alice", LOAD, "models:/churn@champion"))
    at_bob = json.loads(python(bob, "bob", LOAD, "models:/churn@champion"))
    assert at_bob == at_alice
    shown = json.loads(cli(bob, "bob", "models", "show", "churn", "--json"))
    assert [v["version"] for v in shown["versions"]] == [1, 2]
    assert shown["aliases"] == {"champion": 1}

    # Both move the alias apart: Alice to 2, then (later) Bob back to 1.  Both register a
    # third version too.  Alice pushes first; Bob's push merges; Alice fetches.
    third_alice = python(alice, "alice", TRAIN, "0.5")
    third_bob = python(bob, "bob", TRAIN, "2.0")
    cli(alice, "alice", "models", "register", third_alice, "churn")
    cli(alice, "alice", "models", "alias", "churn", "champion", "2")
    time.sleep(0.05)
    cli(bob, "bob", "models", "register", third_bob, "churn")
    cli(bob, "bob", "models", "alias", "churn", "champion", "1")
    cli(alice, "alice", "push")
    cli(bob, "bob", "push")
    cli(alice, "alice", "fetch")
    views = [
        json.loads(cli(clone, who, "models", "show", "churn", "--json"))
        for clone, who in ((alice, "alice"), (bob, "bob"))
    ]
    assert views[0] == views[1]  # converged
    view = views[0]
    assert view["aliases"] == {"champion": 1}  # the later move (Bob's) won
    versions = {v["version"]: v["source"] for v in view["versions"]}
    assert versions[3] == third_alice  # registered first, kept its number
    assert versions[4] == third_bob  # renumbered after the highest
    tips = {git(c, "rev-parse", "refs/gitrun/registry").strip() for c in (alice, bob, remote)}
    assert len(tips) == 1
    history = git(alice, "log", "--format=%an: %s%n%b", "refs/gitrun/registry")
    assert "alice: registry: alias churn@champion -> version 2 (was 1)" in history
    assert "bob: registry: alias churn@champion -> version 1" in history
    assert "bob: gitrun: merge model registry of origin" in history
    assert "kept version 1 (set by bob <bob@example.com>" in history
    assert "became version 4" in history
    log_output = cli(alice, "alice", "models", "log")
    assert "merge model registry" in log_output
