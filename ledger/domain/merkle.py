"""The RFC 6962 Merkle tree over the log: roots, audit paths and consistency proofs.

Leaves are hashed as SHA-256(0x00 || data) and nodes as SHA-256(0x01 || left || right); the
tree of n leaves splits at the largest power of two smaller than n (RFC 6962, section 2.1).
The verifiers follow RFC 9162, sections 2.1.3.2 and 2.1.4.2. Pure: no I/O.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence

HASH_SIZE = 32
EMPTY_ROOT = hashlib.sha256(b"").digest()
"""The root of the tree with no leaves."""

_sha256 = hashlib.sha256


def leaf_hash(data: bytes) -> bytes:
    """The hash of one leaf: SHA-256(0x00 || data)."""
    return _sha256(b"\x00" + data).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    """The hash of an interior node: SHA-256(0x01 || left || right)."""
    return _sha256(b"\x01" + left + right).digest()


def event_leaf_data(position: int, event_hash: bytes) -> bytes:
    """The data of the ledger's leaf for one event: its position (8 bytes, big-endian) and hash."""
    return position.to_bytes(8, "big") + event_hash


def split_point(size: int) -> int:
    """The largest power of two smaller than ``size`` (which must be at least 2)."""
    return 1 << ((size - 1).bit_length() - 1)


def tree_root(leaves: Sequence[bytes]) -> bytes:
    """The Merkle tree hash (MTH) of the leaf hashes ``leaves``."""
    return subtree_root(leaves, 0, len(leaves))


def subtree_root(leaves: Sequence[bytes], start: int, end: int) -> bytes:
    """MTH(D[start:end]) of the leaf hashes: perfect subtrees level by level, then folded."""
    if start == end:
        return EMPTY_ROOT
    frontier = TreeFrontier()
    for index in range(start, end):
        frontier.append(leaves[index])
    return frontier.root()


class TreeFrontier:
    """An append-only tree kept as the roots of its perfect subtrees, largest first.

    Appending is amortised one node hash; the root of the whole tree is O(log n).
    """

    __slots__ = ("_heights", "_roots", "size")

    def __init__(self) -> None:
        self.size = 0
        self._roots: list[bytes] = []
        self._heights: list[int] = []

    def append(self, leaf: bytes) -> None:
        """Add the next leaf hash."""
        roots, heights = self._roots, self._heights
        node, height = leaf, 0
        while heights and heights[-1] == height:
            node = _sha256(b"\x01" + roots.pop() + node).digest()
            heights.pop()
            height += 1
        roots.append(node)
        heights.append(height)
        self.size += 1

    def root(self) -> bytes:
        """MTH of the leaves appended so far: the perfect subtrees folded from the right."""
        if not self._roots:
            return EMPTY_ROOT
        node = self._roots[-1]
        for left in reversed(self._roots[:-1]):
            node = node_hash(left, node)
        return node


def inclusion_proof(index: int, leaves: Sequence[bytes]) -> list[bytes]:
    """PATH(index, D[n]): the audit path of leaf ``index`` in the tree of ``leaves``."""
    if not 0 <= index < len(leaves):
        raise ValueError(f"leaf {index} is not in a tree of {len(leaves)} leaves")
    return _path(index, leaves, 0, len(leaves))


def _path(index: int, leaves: Sequence[bytes], start: int, end: int) -> list[bytes]:
    size = end - start
    if size == 1:
        return []
    k = split_point(size)
    if index < k:
        return [*_path(index, leaves, start, start + k), subtree_root(leaves, start + k, end)]
    return [*_path(index - k, leaves, start + k, end), subtree_root(leaves, start, start + k)]


def consistency_proof(old_size: int, leaves: Sequence[bytes]) -> list[bytes]:
    """PROOF(old_size, D[n]): shows the tree of ``old_size`` leaves is a prefix of this one."""
    if not 0 <= old_size <= len(leaves):
        raise ValueError(f"a tree of {len(leaves)} leaves has no prefix of {old_size}")
    if old_size in (0, len(leaves)):
        return []
    return _subproof(old_size, leaves, 0, len(leaves), complete=True)


def _subproof(
    m: int, leaves: Sequence[bytes], start: int, end: int, *, complete: bool
) -> list[bytes]:
    size = end - start
    if m == size:
        return [] if complete else [subtree_root(leaves, start, end)]
    k = split_point(size)
    if m <= k:
        left = _subproof(m, leaves, start, start + k, complete=complete)
        return [*left, subtree_root(leaves, start + k, end)]
    right = _subproof(m - k, leaves, start + k, end, complete=False)
    return [*right, subtree_root(leaves, start, start + k)]


def root_from_inclusion(leaf: bytes, index: int, size: int, proof: Sequence[bytes]) -> bytes | None:
    """The root that an audit path leads to from ``leaf``, or None when the path cannot be one
    for leaf ``index`` of a tree of ``size`` leaves (RFC 9162, 2.1.3.2)."""
    if not 0 <= index < size or any(len(p) != HASH_SIZE for p in proof):
        return None
    fn, sn, node = index, size - 1, leaf
    for sibling in proof:
        if sn == 0:
            return None
        if fn & 1 or fn == sn:
            node = node_hash(sibling, node)
            while not fn & 1 and fn != 0:
                fn, sn = fn >> 1, sn >> 1
        else:
            node = node_hash(node, sibling)
        fn, sn = fn >> 1, sn >> 1
    return node if sn == 0 else None


def verify_inclusion(
    leaf: bytes, index: int, size: int, proof: Sequence[bytes], root: bytes
) -> bool:
    """True when ``proof`` shows that ``leaf`` is leaf ``index`` of the tree with ``root``."""
    return root_from_inclusion(leaf, index, size, proof) == root


def verify_consistency(
    old_size: int, new_size: int, old_root: bytes, new_root: bytes, proof: Sequence[bytes]
) -> bool:
    """True when ``proof`` shows that the tree ``old_root`` of ``old_size`` leaves is a prefix
    of the tree ``new_root`` of ``new_size`` leaves (RFC 9162, 2.1.4.2)."""
    if not 0 <= old_size <= new_size or any(len(p) != HASH_SIZE for p in proof):
        return False
    if old_size == new_size:
        return not proof and old_root == new_root
    if old_size == 0:
        return not proof and old_root == EMPTY_ROOT
    if not proof:
        return False
    path = list(proof)
    if old_size & (old_size - 1) == 0:
        path.insert(0, old_root)
    return _fold_consistency(old_size, new_size, path) == (old_root, new_root)


def _fold_consistency(old_size: int, new_size: int, path: list[bytes]) -> tuple[bytes, bytes]:
    """The old and new roots the consistency path leads to (mismatching ones when it is bad)."""
    fn, sn = old_size - 1, new_size - 1
    while fn & 1:
        fn, sn = fn >> 1, sn >> 1
    old, new = path[0], path[0]
    for node in path[1:]:
        if sn == 0:
            return b"", b""
        if fn & 1 or fn == sn:
            old, new = node_hash(node, old), node_hash(node, new)
            while not fn & 1 and fn != 0:
                fn, sn = fn >> 1, sn >> 1
        else:
            new = node_hash(new, node)
        fn, sn = fn >> 1, sn >> 1
    return (old, new) if sn == 0 else (b"", b"")
