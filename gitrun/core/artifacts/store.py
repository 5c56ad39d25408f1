"""The content-addressed artifact store: objects named by their SHA-256.

:class:`ArtifactStore` computes and checks addresses; its backend only moves
bytes.  Guarantees:

* an object is visible under its address only when complete (staging +
  atomic publish, or a create-only upload);
* storing bytes that are already there costs one hash of them, no upload
  (on a local store, the hashing pass also writes a staging copy, which is
  then dropped -- unless this store stored that very file, unchanged, before:
  then it only hashes);
* everything read is verified: :meth:`ArtifactStore.get_file` writes to a
  temporary file beside the destination and renames it only once verified;
* nothing is ever held whole in memory, except by :meth:`read_bytes`.
"""

from __future__ import annotations

import io
import os
import secrets
import stat
from collections.abc import Iterable, Iterator
from contextlib import AbstractContextManager
from dataclasses import dataclass
from pathlib import Path

from gitrun.core.artifacts import layout
from gitrun.core.artifacts.backend import Backend
from gitrun.core.artifacts.digest import (
    ALGORITHM,
    Digest,
    hash_bytes,
    hash_file,
    new_hasher,
)
from gitrun.core.artifacts.progress import Advance, Progress, TerminalProgress
from gitrun.core.artifacts.streams import BLOCK_SIZE, pump, read_full
from gitrun.core.artifacts.verified import VerifiedReader, corrupt_object_error
from gitrun.errors import InvalidParameterValue, ResourceDoesNotExist


@dataclass(frozen=True, slots=True)
class QuarantinedObject:
    """A corrupt object moved out of the way by :meth:`ArtifactStore.fsck`."""

    digest: Digest
    quarantine_key: str


@dataclass(frozen=True, slots=True)
class FsckReport:
    """What :meth:`ArtifactStore.fsck` found."""

    checked: int
    """Objects re-hashed."""
    corrupt: tuple[QuarantinedObject, ...]
    """Objects whose bytes did not match their address, now quarantined."""
    stray_keys: tuple[str, ...]
    """Keys among the objects that are not addresses (interrupted uploads)."""

    @property
    def ok(self) -> bool:
        return not self.corrupt


class ArtifactStore:
    """Objects addressed by digest, on any :class:`Backend`.

    Args:
        backend: where the bytes live.
        progress: how large transfers are reported; by default a tqdm bar on
            stderr when it is a terminal.
    """

    def __init__(self, backend: Backend, *, progress: Progress | None = None) -> None:
        self.backend = backend
        self._progress: Progress = progress if progress is not None else TerminalProgress()
        self._seen: dict[tuple[int, ...], Digest] = {}  # file signature -> digest stored

    def __repr__(self) -> str:
        return f"ArtifactStore({self.backend!r})"

    @property
    def url(self) -> str:
        return self.backend.url

    # -- writing -----------------------------------------------------------

    def put_file(self, path: str | os.PathLike[str]) -> Digest:
        """Store a local file; return its address.

        Raises:
            InvalidParameterValue: ``path`` is not a readable regular file, or
                it changed while it was being uploaded.
        """
        source = Path(path)
        before = _stat_source(source)
        if self.backend.stages_cheaply:
            return self._put_local(source, before)[0]
        digest, _ = self._hash_source(source, before.st_size)
        if not self.backend.exists_many([layout.object_key(digest)]):
            self._upload(source, digest, before)
        return digest

    def put_files(self, paths: Iterable[str | os.PathLike[str]]) -> list[tuple[Digest, int]]:
        """Store several local files with one batched existence check.

        Returns:
            The address and size (as stored) of each file, in order.
        """
        sources = [Path(p) for p in paths]
        stats = [_stat_source(s) for s in sources]
        if self.backend.stages_cheaply:
            return [self._put_local(s, st) for s, st in zip(sources, stats, strict=True)]
        stored = [self._hash_source(s, st.st_size) for s, st in zip(sources, stats, strict=True)]
        present = self.has_many(d for d, _ in stored)
        for source, (digest, _), before in zip(sources, stored, stats, strict=True):
            if digest not in present:
                self._upload(source, digest, before)
                present.add(digest)
        return stored

    def put_bytes(self, data: bytes) -> Digest:
        """Store ``data``; return its address."""
        digest = hash_bytes(bytes(data))
        self.backend.put_bytes(layout.object_key(digest), bytes(data))
        return digest

    def _put_local(self, source: Path, before: os.stat_result) -> tuple[Digest, int]:
        # A file this store saw unchanged (same inode, size and times) is probably
        # stored already: hash it without copying, and copy only if that guess fails.
        # The guess only picks the strategy; the address always comes from hashing.
        signature = _signature(before)
        guess = self._seen.get(signature)
        backend = self.backend
        if guess is not None and backend.exists_many([layout.object_key(guess)]):
            digest, size = self._hash_source(source, before.st_size)
            if digest == guess and not _changed(before, source):
                backend.touch(layout.object_key(digest))
                return digest, size
        digest, size = self._put_staged(source, before.st_size)
        if len(self._seen) >= _SEEN_LIMIT:
            self._seen.pop(next(iter(self._seen)))
        self._seen[signature] = digest
        return digest, size

    def _put_staged(self, source: Path, size: int) -> tuple[Digest, int]:
        hasher = new_hasher()
        with (
            self._bar(size, f"storing {source.name}") as advance,
            self.backend.open_staging() as staged,
        ):
            with _open_source(source) as src:
                stored = pump(src, hasher.update, staged, advance)
            digest = Digest(ALGORITHM, hasher.hexdigest())
            staged.publish(layout.object_key(digest))
        return digest, stored

    def _hash_source(self, source: Path, size: int) -> tuple[Digest, int]:
        with self._bar(size, f"hashing {source.name}") as advance:
            try:
                return hash_file(source, on_progress=advance)
            except OSError as error:
                raise InvalidParameterValue(f"cannot read {source}: {error.strerror}") from error

    def _upload(self, source: Path, digest: Digest, before: os.stat_result) -> None:
        key = layout.object_key(digest)
        with self._bar(before.st_size, f"uploading {source.name}") as advance:
            created = self.backend.put_file(key, source, advance)
        if created and _changed(before, source):
            # The uploaded bytes may not be the ones hashed: take them back.
            self.backend.delete(key)
            raise InvalidParameterValue(
                f"{source} changed while it was being stored in {self.url}; "
                "nothing was stored: store it again once it is complete"
            )

    # -- reading -----------------------------------------------------------

    def has_many(self, digests: Iterable[Digest]) -> set[Digest]:
        """The subset of ``digests`` present in the store (batched lookup)."""
        keys = {layout.object_key(d): d for d in digests}
        return {keys[k] for k in self.backend.exists_many(keys)}

    def has(self, digest: Digest) -> bool:
        return bool(self.has_many([digest]))

    def size(self, digest: Digest) -> int:
        """The size in bytes of an object."""
        try:
            return self.backend.size(layout.object_key(digest))
        except ResourceDoesNotExist:
            raise self._missing(digest) from None

    def peek(self, digest: Digest, size: int) -> bytes:
        """The first ``size`` bytes of an object, NOT verified (to sniff its
        type without reading it all).

        Raises:
            ResourceDoesNotExist: no such object.
        """
        buffer = bytearray(size)
        with self._open_raw(digest) as raw:
            got = read_full(raw, memoryview(buffer))
        return bytes(buffer[:got])

    def open_verified(self, digest: Digest) -> VerifiedReader:
        """A stream of an object that raises ``CorruptObject`` instead of EOF
        when the bytes do not match ``digest``.

        Raises:
            ResourceDoesNotExist: no such object.
        """
        return VerifiedReader(self._open_raw(digest), digest, self.url)

    def read_bytes(self, digest: Digest, limit: int = 64 * 2**20) -> bytes:
        """A small object's verified bytes, in memory.

        Raises:
            InvalidParameterValue: the object is larger than ``limit`` bytes.
        """
        chunks: list[bytes] = []
        total = 0
        with self.open_verified(digest) as reader:
            while chunk := reader.read(BLOCK_SIZE):
                total += len(chunk)
                if total > limit:
                    raise InvalidParameterValue(
                        f"artifact object {digest} is larger than {limit} bytes; stream it instead"
                    )
                chunks.append(chunk)
        return b"".join(chunks)

    def get_file(self, digest: Digest, dest: str | os.PathLike[str]) -> Path:
        """Write an object to ``dest``, verified, atomically.

        The bytes go to a temporary file beside ``dest``, which is renamed to
        ``dest`` only once its hash matches: ``dest`` is either the verified
        object or untouched.

        Raises:
            ResourceDoesNotExist: no such object.
            CorruptObject: the stored bytes do not match ``digest``.
        """
        target = Path(dest)
        if target.is_dir():
            raise InvalidParameterValue(f"cannot write artifact {digest} to {target}: it is a directory")
        target.parent.mkdir(parents=True, exist_ok=True)
        raw = self._open_raw(digest)
        total = self.size(digest) if self._progress.wanted() else 0
        temp = target.parent / f".{target.name}.{secrets.token_hex(6)}.gitrun-tmp"
        hasher = new_hasher(digest.algorithm)
        try:
            with (
                raw,
                open(temp, "xb", buffering=0) as out,
                self._bar(total, f"fetching {target.name}") as advance,
            ):
                pump(raw, hasher.update, out, advance)
            self._check(digest, hasher.hexdigest())
            os.replace(temp, target)
        except BaseException:
            temp.unlink(missing_ok=True)
            raise
        return target

    def verify(self, digest: Digest) -> bool:
        """Whether the stored bytes of ``digest`` hash to ``digest``.

        Raises:
            ResourceDoesNotExist: no such object.
        """
        return self._rehash(digest) == digest

    def iter_digests(self) -> Iterator[Digest]:
        """Every object's address (in no particular order)."""
        for key in self.backend.iter_keys(layout.OBJECTS):
            digest = layout.digest_of_key(key)
            if digest is not None:
                yield digest

    # -- maintenance -------------------------------------------------------

    def delete(self, digest: Digest) -> None:
        """Remove an object; removing a missing object is not an error."""
        self.backend.delete(layout.object_key(digest))

    def fsck(self) -> FsckReport:
        """Re-hash every object; move the corrupt ones to the quarantine.

        A quarantined object is missing from then on, so storing or copying
        the right bytes again repairs the store.
        """
        checked = 0
        corrupt: list[QuarantinedObject] = []
        stray: list[str] = []
        for key in sorted(self.backend.iter_keys(layout.OBJECTS)):
            digest = layout.digest_of_key(key)
            if digest is None:
                stray.append(key)
                continue
            try:
                actual = self._rehash(digest)
            except ResourceDoesNotExist:
                continue  # deleted while we were checking
            checked += 1
            if actual != digest:
                quarantine = layout.quarantine_key(digest)
                self.backend.move(key, quarantine)
                corrupt.append(QuarantinedObject(digest, quarantine))
        return FsckReport(checked, tuple(corrupt), tuple(stray))

    def copy_to(self, other: ArtifactStore, digests: Iterable[Digest]) -> list[Digest]:
        """Copy to ``other`` the objects it lacks (one batched check); every
        object is verified on the way, so corruption never spreads.

        Returns:
            The digests copied, sorted.

        Raises:
            ResourceDoesNotExist: an object to copy is in neither store.
            CorruptObject: an object to copy is corrupt here.
        """
        wanted = set(digests)
        missing = sorted(wanted - other.has_many(wanted))
        if not missing:
            return []
        absent = sorted(set(missing) - self.has_many(missing))
        if absent:
            shown = ", ".join(str(d) for d in absent[:3])
            more = f" and {len(absent) - 3} more" if len(absent) > 3 else ""
            raise ResourceDoesNotExist(f"artifact objects {shown}{more} not found in store {self.url}")
        total = sum(self.size(d) for d in missing) if self._progress.wanted() else 0
        with self._bar(total, f"copying to {other.url}") as advance:
            for digest in missing:
                self._copy_one(digest, other, advance)
        return missing

    def _copy_one(self, digest: Digest, other: ArtifactStore, advance: Advance) -> None:
        key = layout.object_key(digest)
        local = self.backend.local_path(key)
        if other.backend.stages_cheaply:
            hasher = new_hasher(digest.algorithm)
            with self._open_raw(digest) as raw, other.backend.open_staging() as staged:
                pump(raw, hasher.update, staged, advance)
                self._check(digest, hasher.hexdigest())
                staged.publish(key)
        elif local is not None:
            # Stored objects are read-only and never rewritten: verify, then
            # let the other backend upload the file itself.
            self._check(digest, self._rehash(digest).hexdigest)
            other.backend.put_file(key, local, advance)
        else:
            import tempfile

            with tempfile.TemporaryDirectory(prefix="gitrun-copy-") as scratch:
                copy = self.get_file(digest, Path(scratch) / digest.hexdigest)
                other.backend.put_file(key, copy, advance)

    # -- helpers -----------------------------------------------------------

    def _open_raw(self, digest: Digest) -> io.RawIOBase:
        try:
            return self.backend.open_read(layout.object_key(digest))
        except ResourceDoesNotExist:
            raise self._missing(digest) from None

    def _rehash(self, digest: Digest) -> Digest:
        hasher = new_hasher(digest.algorithm)
        with self._open_raw(digest) as raw:
            pump(raw, hasher.update)
        return Digest(digest.algorithm, hasher.hexdigest())

    def _check(self, digest: Digest, hexdigest: str) -> None:
        if hexdigest != digest.hexdigest:
            raise corrupt_object_error(digest, self.url, Digest(digest.algorithm, hexdigest))

    def _missing(self, digest: Digest) -> ResourceDoesNotExist:
        return ResourceDoesNotExist(f"artifact object {digest} not found in store {self.url}")

    def _bar(self, total: int, description: str) -> AbstractContextManager[Advance]:
        return self._progress.bar(total, description)


_SEEN_LIMIT = 4096


def _signature(st: os.stat_result) -> tuple[int, ...]:
    return (st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns, st.st_ctime_ns)


def _stat_source(source: Path) -> os.stat_result:
    try:
        st = source.stat()
    except FileNotFoundError:
        raise InvalidParameterValue(f"cannot store {source}: no such file") from None
    except OSError as error:
        raise InvalidParameterValue(f"cannot store {source}: {error.strerror}") from error
    if stat.S_ISDIR(st.st_mode):
        raise InvalidParameterValue(f"cannot store {source} as one object: it is a directory")
    if not stat.S_ISREG(st.st_mode):
        raise InvalidParameterValue(f"cannot store {source}: not a regular file")
    return st


def _open_source(source: Path) -> io.RawIOBase:
    try:
        return open(source, "rb", buffering=0)
    except OSError as error:
        raise InvalidParameterValue(f"cannot read {source}: {error.strerror}") from error


def _changed(before: os.stat_result, source: Path) -> bool:
    try:
        after = source.stat()
    except OSError:
        return True
    fields = ("st_size", "st_mtime_ns", "st_ctime_ns", "st_ino", "st_dev")
    return any(getattr(before, f) != getattr(after, f) for f in fields)
