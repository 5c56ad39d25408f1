"""No secret leaves the machine: credential files, token-shaped contents, secret-looking
arguments and environment variables never reach any object of a remote after
`gitrun push` (every object of the remote is read)."""

from __future__ import annotations

import sys
from pathlib import Path

from tests.conftest import git
from tests.reliability.conftest import all_objects, cli, make_repo, reachable_names_and_blobs, script

SECRET_FILES = [
    "kaggle.json",
    "service-account.json",
    "gcp-key.json",
    ".config/gcloud/application_default_credentials.json",
    ".git-credentials",
    ".pgpass",
    ".my.cnf",
    ".kube/config",
    ".docker/config.json",
    "terraform.tfstate",
    "prod.tfvars",
    ".huggingface/token",
    ".envrc",
    "prod.env",
    ".ENV",
    "ID_RSA",
    "id_dsa",
    "token.txt",
    "apikey.txt",
    "secrets/db.txt",
    "wandb/settings",
    ".ssh/id_ed25519",
    ".aws/credentials",
    ".netrc",
    "client_secret.json",
    "deploy/server.pem",
    ".gnupg/private.key",
]
TOKENS = {
    "notes/aws.txt": "aws_access_key_id = AKIAIOSFODNN7EXAMPLE\n",
    "notes/gh.py": "TOKEN = 'ghp_" + "a1B2c3D4" * 5 + "'\n",
    "notes/key.txt": "-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAA\n",
    "notes/hf.md": "use hf_" + "Zx9" * 12 + " to download\n",
    "notes/openai.cfg": "key=sk-proj-" + "Q" * 48 + "\n",
    "notes/slack.yaml": "hook: xoxb-123456789012-abcdefghijklmnop\n",
    "notes/stripe.js": "stripe('sk_live_" + "4eC39HqLyjWDarjtT1zdp7dc" + "')\n",
    "notes/google.json": '{"k": "AIza' + "S" * 35 + '"}\n',
}
ARGV_SECRETS = ["sk-live-SECRETARGUMENT1", "hf_" + "ARGSECRET" * 4, "s3cr3t-password-ARG"]
TRAIN = """
import sys, gitrun
with gitrun.start_run() as run:
    gitrun.log_param("lr", 0.1)
print(run.info.run_id)
"""


def test_no_secret_reaches_any_object_of_the_remote(tmp_path: Path) -> None:
    repo = make_repo(tmp_path / "work")
    (repo / "train.py").write_text(TRAIN)
    (repo / ".gitrunignore").write_text("data/*.csv\n")
    git(repo, "add", "train.py", ".gitrunignore")
    git(repo, "commit", "-q", "-m", "train")
    markers = []
    for name in SECRET_FILES:
        path = repo / name
        path.parent.mkdir(parents=True, exist_ok=True)
        marker = f"MARKER-{name.replace('/', '-')}-SECRET"
        path.write_text(marker + "\n")
        markers.append(marker)
    for name, text in TOKENS.items():
        (repo / name).parent.mkdir(parents=True, exist_ok=True)
        (repo / name).write_text(text)
    (repo / "data").mkdir()
    (repo / "data" / "big.csv").write_text("MARKER-IGNORED-DATA\n")
    (repo / "notes" / "ok.md").write_text("an ordinary untracked note\n")
    env = {"GITRUN_CAPTURE_ENV": "*", "MY_SERVICE_TOKEN": "MARKER-ENV-TOKEN", "DB_PASSWORD": "MARKER-ENV-PW"}
    proc = script(
        repo,
        TRAIN,
        f"--api-key={ARGV_SECRETS[0]}",
        "--hf_token",
        ARGV_SECRETS[1],
        f"DB_PASSWORD={ARGV_SECRETS[2]}",
        "--lr",
        "0.1",
        env=env,
    )
    summary = [line for line in proc.stderr.decode().splitlines() if line.startswith("gitrun: snapshot")]
    assert len(summary) == 1 and "notes/ok.md" in summary[0] and "left out" in summary[0]
    run = cli(repo, "run", "--", sys.executable, "-c", "print(1)", "--db-password", "MARKER-CLI-PW", env=env)
    assert run.returncode == 0, run.stderr
    remote = tmp_path / "remote.git"
    git(tmp_path, "init", "-q", "--bare", str(remote))
    git(repo, "remote", "add", "origin", str(remote))
    pushed = cli(repo, "push")
    assert pushed.returncode == 0, pushed.stderr
    assert git(remote, "for-each-ref", "refs/gitrun/")  # something was pushed
    names, blobs = reachable_names_and_blobs(remote)
    everything = b"\n".join(data for _, _, data in all_objects(remote))
    forbidden = [
        *markers,
        *(t.strip().split("=")[-1].strip("'\"()") for t in TOKENS.values()),
        "AKIAIOSFODNN7EXAMPLE",
        "PRIVATE KEY",
        *ARGV_SECRETS,
        "MARKER-CLI-PW",
        "MARKER-ENV-TOKEN",
        "MARKER-ENV-PW",
        "MARKER-IGNORED-DATA",
    ]
    for secret in forbidden:
        assert secret.encode() not in everything, f"{secret!r} reached the remote"
    for name in [*SECRET_FILES, *TOKENS, "data/big.csv"]:
        assert Path(name).name.encode() not in names, f"{name} reached the remote"
    assert b"ok.md" in names  # the ordinary untracked file did go (and was announced)
    assert any(b"<redacted>" in blob for blob in blobs)
