"""The object database against real git: alternates, partial clones, packs gitrun cannot
parse, large packed objects, corrupt loose objects, and its bounded memory."""

from __future__ import annotations

import os
import shutil
import subprocess
import zlib
from pathlib import Path

import pytest

from gitrun.core.git import odb as odb_module
from gitrun.core.git.objects import Oid
from gitrun.core.git.repo import Repository
from gitrun.errors import CorruptObject, ResourceDoesNotExist
from tests.conftest import git


def _repo(path: Path) -> Repository:
    repo = Repository.discover(str(path))
    assert repo is not None
    return repo


def _cat(repo: Path, oid: str) -> bytes:
    return subprocess.run(["git", "cat-file", "-p", oid], cwd=repo, capture_output=True, check=True).stdout


def _commit_file(repo: Path, name: str, data: bytes) -> Oid:
    (repo / name).write_bytes(data)
    git(repo, "add", name)
    git(repo, "commit", "-q", "-m", name)
    return Oid(git(repo, "rev-parse", f"HEAD:{name}").strip())


def test_objects_of_an_alternate_are_read(work_repo: Path, tmp_path: Path) -> None:
    blob = _commit_file(work_repo, "data.txt", b"in the origin only\n")
    clone = tmp_path / "clone"
    git(tmp_path, "clone", "-q", "--shared", str(work_repo), str(clone))
    alternates = clone / ".git" / "objects" / "info" / "alternates"
    alternates.write_text("# git ignores comments here\n\n" + alternates.read_text())
    assert not (clone / ".git" / "objects" / blob[:2] / blob[2:]).exists()
    odb = _repo(clone).odb
    assert odb.contains(blob)
    assert odb.missing([blob]) == []
    assert odb.read(blob) == (b"blob", b"in the origin only\n")
    absent = Oid("f" * 40)
    assert not odb.contains(absent)
    assert odb.missing([blob, absent]) == [absent]
    with pytest.raises(ResourceDoesNotExist):
        odb.read(absent)


def test_a_partial_clone_fetches_what_it_lacks_through_git(work_repo: Path, tmp_path: Path) -> None:
    blobs = [_commit_file(work_repo, f"f{i}.txt", f"blob {i}\n".encode()) for i in range(3)]
    git(work_repo, "config", "uploadpack.allowFilter", "true")
    clone = tmp_path / "partial"
    git(tmp_path, "clone", "-q", "--no-checkout", "--filter=blob:none", f"file://{work_repo}", str(clone))
    repo = _repo(clone)
    assert repo.format.partial_clone and repo.format.promisor_remotes == ("origin",)

    def missing_here() -> set[str]:
        # Objects the clone lacks, listed without fetching them.
        listing = git(clone, "rev-list", "--objects", "--missing=print", "--all")
        return {line[1:] for line in listing.split() if line.startswith("?")} & set(blobs)

    assert missing_here() == set(blobs)
    # One object on demand: git fetches it from the promisor remote.
    assert repo.odb.read(blobs[0]) == (b"blob", b"blob 0\n")
    assert missing_here() == set(blobs[1:])
    # The others in one go, before they are needed.
    repo.odb.prefetch([blobs[0], blobs[1], blobs[2]])
    assert missing_here() == set()
    assert repo.odb.read(blobs[2]) == (b"blob", b"blob 2\n")
    repo.odb.prefetch([blobs[1]])  # all present: nothing to do
    # An object no remote has is missing, not an error.
    with pytest.raises(ResourceDoesNotExist):
        repo.odb.read(Oid("e" * 40))
    # Not a partial clone: prefetch never runs git.
    _repo(work_repo).odb.prefetch(blobs)


def _damage_index(idx: Path, how: str) -> None:
    data = bytearray(idx.read_bytes())
    idx.chmod(0o644)
    if how == "version-3":
        data[4:8] = (3).to_bytes(4, "big")
        idx.write_bytes(bytes(data))
    else:
        idx.write_bytes(bytes(data[:1100]))  # the fan-out table, then almost nothing


@pytest.mark.parametrize("how", ["version-3", "truncated"])
def test_a_pack_index_gitrun_cannot_parse_is_left_to_git(work_repo: Path, how: str) -> None:
    old = _commit_file(work_repo, "old.txt", b"packed long ago\n")
    git(work_repo, "repack", "-adq")
    (idx,) = (work_repo / ".git" / "objects" / "pack").glob("*.idx")
    new = _commit_file(work_repo, "new.txt", b"packed later\n")
    git(work_repo, "repack", "-dq")  # a second pack holding only the new objects
    _damage_index(idx, how)
    repo = _repo(work_repo)
    # The readable pack is read; an object of the damaged one is asked of git, which
    # cannot read that index either: the object is missing, not a crash.
    assert repo.odb.read(new) == (b"blob", b"packed later\n")
    assert not repo.odb.contains(old)
    with pytest.raises(ResourceDoesNotExist):
        repo.odb.read(old)
    assert subprocess.run(["git", "cat-file", "-e", old], cwd=work_repo, check=False).returncode != 0


def test_large_incompressible_packed_objects_are_read_whole(work_repo: Path) -> None:
    data = os.urandom(300_000)  # compresses to more than its size plus the read window
    blob = _commit_file(work_repo, "noise.bin", data)
    git(work_repo, "repack", "-adq")
    git(work_repo, "prune-packed")
    assert not (work_repo / ".git" / "objects" / blob[:2] / blob[2:]).exists()
    assert _repo(work_repo).odb.read(blob) == (b"blob", data)


def test_corrupt_loose_objects_are_reported(work_repo: Path) -> None:
    repo = _repo(work_repo)
    garbled = repo.write_blob(b"to be garbled\n")
    lying = repo.write_blob(b"to lie about its size\n")
    for oid, raw in ((garbled, b"not zlib at all"), (lying, zlib.compress(b"blob 999\0short"))):
        path = work_repo / ".git" / "objects" / oid[:2] / oid[2:]
        path.chmod(0o644)
        path.write_bytes(raw)
    fresh = _repo(work_repo)
    with pytest.raises(CorruptObject, match="cannot be decompressed"):
        fresh.odb.read(garbled)
    with pytest.raises(CorruptObject, match="bad header"):
        fresh.odb.read(lying)
    assert subprocess.run(["git", "fsck"], cwd=work_repo, capture_output=True, check=False).returncode != 0
    blob = fresh.write_blob(b"a blob\n")
    with pytest.raises(CorruptObject, match="is a blob, expected tree"):
        fresh.read_tree(blob)
    assert fresh.lookup(fresh.write_tree({}), "x") is None


def test_a_path_through_a_file_has_no_entry(work_repo: Path) -> None:
    repo = _repo(work_repo)
    head = repo.head_commit()
    assert head is not None
    tree = repo.read_commit(head).tree
    assert repo.lookup(tree, "train.py") is not None
    assert repo.lookup(tree, "train.py/below") is None


def test_the_object_memory_stays_bounded(
    work_repo: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(odb_module, "_CACHE_BYTES", 64 * 1024)
    repo = _repo(work_repo)
    oids = [repo.write_blob(bytes([i]) * 6000) for i in range(20)]
    big = repo.write_blob(b"x" * 10_000)  # more than an eighth of the memory: never kept
    reader = _repo(work_repo).odb
    for i, oid in enumerate(oids):
        assert reader.read(oid) == (b"blob", bytes([i]) * 6000)
    assert reader.read(big)[1] == b"x" * 10_000
    assert reader._cache_size <= 64 * 1024
    assert oids[0] not in reader._cache and oids[-1] in reader._cache and big not in reader._cache
    # Evicted objects are read again from disk, unchanged.
    assert reader.read(oids[0]) == (b"blob", bytes([0]) * 6000)


def test_objects_are_written_again_after_git_removes_their_pack_folder(tmp_path: Path) -> None:
    repo = Repository.init_bare(str(tmp_path / "store.git"), object_format="sha256")
    assert repo.object_format == "sha256"
    first = repo.write_blob(b"one\n")
    assert len(first) == 64
    shutil.rmtree(Path(repo.common_dir, "objects"))
    repo.odb.revalidate()  # no pack folder at all: the memory of written objects is dropped
    again = repo.write_blob(b"one\n")
    assert again == first
    assert git(repo.git_dir, "cat-file", "-p", again) == "one\n"
    assert _cat(Path(repo.git_dir), again) == b"one\n"


def test_commits_made_by_git_are_decoded_field_by_field(work_repo: Path) -> None:
    # An extra header after the committer (``encoding``) must not be taken for it.
    git(work_repo, "-c", "i18n.commitEncoding=ISO-8859-1", "commit", "-q", "--allow-empty", "-m", "latin")
    oid = git(work_repo, "rev-parse", "HEAD").strip()
    assert "\nencoding ISO-8859-1\n" in _cat(work_repo, oid).decode()
    commit = _repo(work_repo).read_commit(Oid(oid))
    fields = git(
        work_repo, "log", "-1", "--format=%T%n%P%n%an <%ae> %at %ad%n%cn <%ce> %ct %cd", "--date=format:%z"
    )
    tree, parent, author, committer = fields.splitlines()
    assert (commit.tree, commit.parents, commit.author, commit.committer) == (
        tree,
        (parent,),
        author,
        committer,
    )
    assert commit.message == "latin\n"


def test_tracking_collects_every_object_written_or_found(work_repo: Path) -> None:
    odb = _repo(work_repo).odb
    present = odb.write_blob(b"written before the block\n")
    with odb.tracking() as outer:
        new = odb.write_blob(b"written inside\n")
        with odb.tracking() as inner:
            again = odb.write_blob(b"written before the block\n")  # found present: still tracked
        assert again == present
    assert outer == {new, present} and inner == {present}
    assert odb.write_blob(b"after the block\n") not in outer
