"""A read never creates or changes a store: listing, showing and searching in an empty
folder, a mistyped location or a shared bare remote writes nothing at all (every file
and folder below is compared before and after)."""

from __future__ import annotations

from pathlib import Path

from tests.conftest import git
from tests.reliability.conftest import cli, make_repo, script, tree_fingerprint

READS = [
    ["runs", "ls"],
    ["runs", "ls", "--json"],
    ["experiments", "ls"],
    ["show", "abc123"],
    ["metrics", "abc123"],
]


def test_reads_in_an_empty_folder_or_a_mistyped_location_create_nothing(tmp_path: Path) -> None:
    empty = tmp_path / "empty"
    empty.mkdir()
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    before = tree_fingerprint(tmp_path)
    for args in (["runs", "ls"], ["show", "abc123"]):
        for where, extra in (
            (empty, []),
            (elsewhere, ["-C", str(empty)]),
            (elsewhere, ["--tracking-uri", str(tmp_path / "typo" / "store")]),
        ):
            proc = cli(where, *extra, *args)
            assert proc.returncode == 1, (args, proc.stdout, proc.stderr)
            assert b"unexpected error" not in proc.stderr
    assert b"nothing was created" in cli(empty, "runs", "ls").stderr
    assert tree_fingerprint(tmp_path) == before


def test_reads_of_a_shared_bare_remote_write_nothing(tmp_path: Path) -> None:
    repo = make_repo(tmp_path / "work")
    remote = tmp_path / "remote.git"
    git(tmp_path, "init", "-q", "--bare", str(remote))
    git(repo, "remote", "add", "origin", str(remote))
    script(repo, "import gitrun\nwith gitrun.start_run():\n    gitrun.log_metric('m', 1.0)")
    assert cli(repo, "push").returncode == 0
    before = tree_fingerprint(remote)
    for args in READS:
        proc = cli(tmp_path, "-C", str(remote), *args)
        assert b"unexpected error" not in proc.stderr, proc.stderr
    assert tree_fingerprint(remote) == before


def test_reads_in_a_fresh_repository_write_nothing(tmp_path: Path) -> None:
    repo = make_repo(tmp_path / "fresh")
    before = tree_fingerprint(repo)
    for args in READS:
        proc = cli(repo, *args)
        assert b"unexpected error" not in proc.stderr, proc.stderr
    assert cli(repo, "runs", "ls").stdout.startswith(b"No runs yet.")
    assert tree_fingerprint(repo) == before
