"""Three machines (clones) record and push at once through `git daemon`; a fourth
fetches everything and reproduces a run exactly."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
import uuid
from pathlib import Path

from gitrun import MlflowClient
from tests.cli.test_run_cli import gitrun_cli
from tests.conftest import git
from tests.gitdaemon import git_daemon
from tests.servers import BUCKET

TRAIN = textwrap.dedent("""\
    import sys
    import gitrun
    from sklearn.datasets import load_wine
    from sklearn.tree import DecisionTreeClassifier

    machine, proc, depth = sys.argv[1], sys.argv[2], int(sys.argv[3])
    X, y = load_wine(return_X_y=True)
    gitrun.set_experiment("shared")
    with gitrun.start_run(run_name=f"{machine}-{proc}-d{depth}"):
        gitrun.log_params({"depth": depth, "machine": machine})
        model = DecisionTreeClassifier(max_depth=depth, random_state=0).fit(X, y)
        for step in range(50):
            gitrun.log_metric("curve", depth * 1000 + step, step=step)
        gitrun.log_metric("train_accuracy", float(model.score(X, y)))
        gitrun.log_text(f"depth={depth} importances={model.feature_importances_.round(6).tolist()}",
                        "report.txt")
""")
# Each "machine" runs two logging processes at once; each process records three runs.
WORKER = "for d in 1 2 3; do {python} train.py {machine} {proc} $d || exit 1; done"


def test_three_machines_converge_and_a_fourth_reproduces(
    work_repo: Path, tmp_path: Path, s3_endpoint: str
) -> None:
    (work_repo / "train.py").write_text(TRAIN)
    remote_store = f"s3://{BUCKET}/team-{uuid.uuid4().hex[:8]}"
    (work_repo / ".gitrun.yaml").write_text(
        json.dumps({"artifacts": {"remote": remote_store, "options": {"endpoint_url": s3_endpoint}}})
    )
    git(work_repo, "add", "train.py", ".gitrun.yaml")
    git(work_repo, "commit", "-q", "-m", "train")
    served = tmp_path / "served"
    served.mkdir()
    git(served, "clone", "-q", "--bare", str(work_repo), "team.git")
    with git_daemon(served) as prefix:
        url = f"{prefix}/team.git"
        machines = []
        for name in ("alpha", "beta", "gamma"):
            clone = tmp_path / name
            git(tmp_path, "clone", "-q", url, str(clone))
            machines.append(clone)
        loggers = [
            subprocess.Popen(
                ["sh", "-c", WORKER.format(python=sys.executable, machine=clone.name, proc=p)],
                cwd=clone,
                stderr=subprocess.PIPE,
            )
            for clone in machines
            for p in range(2)
        ]
        for proc in loggers:
            _, err = proc.communicate(timeout=300)
            assert proc.returncode == 0, err.decode()
        pushers = [
            subprocess.Popen(
                [sys.executable, "-m", "gitrun.cli", "push"],
                cwd=clone,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
            )
            for clone in machines
        ]
        for proc in pushers:
            out, err = proc.communicate(timeout=300)
            assert proc.returncode == 0, out.decode() + err.decode()

        fresh = tmp_path / "delta"
        git(tmp_path, "clone", "-q", url, str(fresh))
        branches = git(fresh, "for-each-ref", "refs/heads", "refs/remotes")
        fetched = gitrun_cli(fresh, "fetch")
        assert fetched.returncode == 0, fetched.stderr
        assert git(fresh, "for-each-ref", "refs/heads", "refs/remotes") == branches

    from gitrun.tracking.search import search_runs

    client = MlflowClient(str(fresh))
    experiment = client.get_experiment_by_name("shared")
    assert experiment is not None
    runs = search_runs(client.store, [experiment.experiment_id], max_results=1000)
    assert len(runs) == 18
    assert {r.info.run_name for r in runs} == {
        f"{m}-{p}-d{d}" for m in ("alpha", "beta", "gamma") for p in range(2) for d in (1, 2, 3)
    }
    for run in runs:
        depth = int(run.data.params["depth"])
        curve = client.get_metric_history(run.info.run_id, "curve")
        assert [(m.step, m.value) for m in curve] == [(s, depth * 1000 + s) for s in range(50)]

    # Every artifact was uploaded before its run was pushed: the fresh machine has no
    # local copy, yet pulls any of them by hash from the shared store, verified.
    target = next(r for r in runs if r.info.run_name == "beta-1-d3")
    listing = gitrun_cli(fresh, "artifacts", "ls", target.info.run_id, "--json")
    assert listing.returncode == 0, listing.stderr
    digest = next(item["digest"] for item in json.loads(listing.stdout) if item["path"] == "report.txt")
    pulled = gitrun_cli(fresh, "pull", digest, "-o", str(tmp_path / "report.txt"))
    assert pulled.returncode == 0, pulled.stderr
    assert (tmp_path / "report.txt").read_text().startswith("depth=3 importances=")
    proc = gitrun_cli(
        fresh, "reproduce", target.info.run_id, "--dir", str(tmp_path / "repro"), "--run", "--verify"
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "All metrics reproduced." in proc.stdout
