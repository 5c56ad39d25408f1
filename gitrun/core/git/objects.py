"""Git object encoding: ids, trees and commits (no I/O here)."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import NewType

Oid = NewType("Oid", str)
"""A git object id in lower-case hex."""

MODE_TREE = 0o040000
MODE_BLOB = 0o100644
MODE_EXEC = 0o100755
MODE_LINK = 0o120000
MODE_GITLINK = 0o160000

TYPE_NAMES = (b"commit", b"tree", b"blob", b"tag")


@dataclass(frozen=True, slots=True)
class TreeEntry:
    name: str
    mode: int
    oid: Oid

    @property
    def is_tree(self) -> bool:
        return self.mode == MODE_TREE


@dataclass(frozen=True, slots=True)
class Commit:
    tree: Oid
    parents: tuple[Oid, ...]
    author: str
    committer: str
    message: str


def hash_object(kind: bytes, data: bytes, algorithm: str = "sha1") -> tuple[Oid, bytes]:
    """Return the id of an object and its canonical (uncompressed) encoding."""
    raw = kind + b" " + str(len(data)).encode() + b"\0" + data
    return Oid(hashlib.new(algorithm, raw).hexdigest()), raw


def _tree_sort_key(entry: TreeEntry) -> bytes:
    # Git orders a tree as if directory names ended with "/".
    name = entry.name.encode("utf-8", "surrogateescape")
    return name + b"/" if entry.mode == MODE_TREE else name


def encode_tree(entries: dict[str, TreeEntry] | list[TreeEntry]) -> bytes:
    items = entries.values() if isinstance(entries, dict) else entries
    out = bytearray()
    for entry in sorted(items, key=_tree_sort_key):
        out += b"%o %s\0" % (entry.mode, entry.name.encode("utf-8", "surrogateescape"))
        out += bytes.fromhex(entry.oid)
    return bytes(out)


def decode_tree(data: bytes, oid_size: int = 20) -> dict[str, TreeEntry]:
    entries: dict[str, TreeEntry] = {}
    pos = 0
    end = len(data)
    while pos < end:
        space = data.index(b" ", pos)
        nul = data.index(b"\0", space)
        mode = int(data[pos:space], 8)
        name = data[space + 1 : nul].decode("utf-8", "surrogateescape")
        oid = Oid(data[nul + 1 : nul + 1 + oid_size].hex())
        entries[name] = TreeEntry(name, mode, oid)
        pos = nul + 1 + oid_size
    return entries


def encode_commit(commit: Commit) -> bytes:
    lines = [f"tree {commit.tree}"]
    lines += [f"parent {p}" for p in commit.parents]
    lines.append(f"author {commit.author}")
    lines.append(f"committer {commit.committer}")
    return ("\n".join(lines) + "\n\n" + commit.message).encode()


def decode_commit(data: bytes) -> Commit:
    header, _, message = data.partition(b"\n\n")
    tree = ""
    parents: list[Oid] = []
    author = committer = ""
    for line in header.split(b"\n"):
        key, _, value = line.partition(b" ")
        if key == b"tree":
            tree = value.decode()
        elif key == b"parent":
            parents.append(Oid(value.decode()))
        elif key == b"author":
            author = value.decode("utf-8", "replace")
        elif key == b"committer":
            committer = value.decode("utf-8", "replace")
    return Commit(Oid(tree), tuple(parents), author, committer, message.decode("utf-8", "replace"))
