"""RFC 9162 (Certificate Transparency v2) Merkle tree hashing.

The hash of a leaf is ``SHA-256(0x00 || data)`` and of an interior node
``SHA-256(0x01 || left || right)``; the tree over ``n`` leaves splits at the
largest power of two smaller than ``n`` (RFC 9162 §2.1.1). The domain-separation
prefixes make a leaf impossible to pass off as a node.

Besides the root, this module computes and verifies the audit paths (inclusion
proofs, §2.1.3) and consistency proofs (§2.1.4) a party needs to check that one
record is in the log, and that a later log extends an earlier one without
rewriting it.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence

__all__ = [
    "EMPTY_ROOT",
    "MerkleAccumulator",
    "consistency_proof",
    "inclusion_proof",
    "leaf_hash",
    "node_hash",
    "root_hash",
    "verify_consistency",
    "verify_inclusion",
]

EMPTY_ROOT = hashlib.sha256(b"").digest()


def leaf_hash(data: bytes) -> bytes:
    """``SHA-256(0x00 || data)``."""
    return hashlib.sha256(b"\x00" + data).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    """``SHA-256(0x01 || left || right)``."""
    return hashlib.sha256(b"\x01" + left + right).digest()


def _split(n: int) -> int:
    """Largest power of two strictly smaller than ``n`` (n >= 2)."""
    return 1 << ((n - 1).bit_length() - 1)


def _subtree_root(leaves: Sequence[bytes]) -> bytes:
    accumulator = MerkleAccumulator()
    for leaf in leaves:
        accumulator.append_leaf_hash(leaf)
    return accumulator.root()


def root_hash(leaf_hashes: Sequence[bytes]) -> bytes:
    """Merkle tree hash (MTH) over already-hashed leaves."""
    return _subtree_root(leaf_hashes)


class MerkleAccumulator:
    """Incremental root computation in O(log n) memory.

    Keeps the roots of the perfect subtrees of the current tree (one per set bit
    of the size, largest first), exactly as a binary counter does.
    """

    __slots__ = ("_size", "_stack")

    def __init__(self) -> None:
        self._stack: list[tuple[int, bytes]] = []  # (height, hash)
        self._size = 0

    @property
    def size(self) -> int:
        """Number of leaves appended."""
        return self._size

    def append(self, data: bytes) -> bytes:
        """Append raw leaf data; returns its leaf hash."""
        digest = leaf_hash(data)
        self.append_leaf_hash(digest)
        return digest

    def append_leaf_hash(self, digest: bytes) -> None:
        """Append an already computed leaf hash."""
        height = 0
        stack = self._stack
        while stack and stack[-1][0] == height:
            _, left = stack.pop()
            digest = node_hash(left, digest)
            height += 1
        stack.append((height, digest))
        self._size += 1

    def extend(self, items: Iterable[bytes]) -> None:
        """Append many raw leaves."""
        for data in items:
            self.append(data)

    def root(self) -> bytes:
        """The tree hash of all leaves so far (``SHA-256("")`` when empty)."""
        if not self._stack:
            return EMPTY_ROOT
        digest = self._stack[-1][1]
        for _, left in reversed(self._stack[:-1]):
            digest = node_hash(left, digest)
        return digest


def inclusion_proof(index: int, leaf_hashes: Sequence[bytes]) -> list[bytes]:
    """Audit path for leaf ``index`` in the tree over ``leaf_hashes`` (RFC 9162 §2.1.3.1)."""
    n = len(leaf_hashes)
    if not 0 <= index < n:
        raise IndexError(f"leaf index {index} outside a tree of size {n}")
    if n == 1:
        return []
    k = _split(n)
    if index < k:
        return [*inclusion_proof(index, leaf_hashes[:k]), _subtree_root(leaf_hashes[k:])]
    return [*inclusion_proof(index - k, leaf_hashes[k:]), _subtree_root(leaf_hashes[:k])]


def verify_inclusion(
    index: int, tree_size: int, leaf: bytes, proof: Sequence[bytes], root: bytes
) -> bool:
    """Verify an audit path (RFC 9162 §2.1.3.2); ``leaf`` is the leaf hash."""
    if index >= tree_size:
        return False
    fn, sn = index, tree_size - 1
    r = leaf
    for p in proof:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            r = node_hash(p, r)
            if not fn & 1:
                while fn and not fn & 1:
                    fn >>= 1
                    sn >>= 1
        else:
            r = node_hash(r, p)
        fn >>= 1
        sn >>= 1
    return sn == 0 and r == root


def _subproof(m: int, leaves: Sequence[bytes], complete: bool) -> list[bytes]:
    n = len(leaves)
    if m == n:
        return [] if complete else [_subtree_root(leaves)]
    k = _split(n)
    if m <= k:
        return [*_subproof(m, leaves[:k], complete), _subtree_root(leaves[k:])]
    return [*_subproof(m - k, leaves[k:], False), _subtree_root(leaves[:k])]


def consistency_proof(old_size: int, leaf_hashes: Sequence[bytes]) -> list[bytes]:
    """Proof that the first ``old_size`` leaves are a prefix (RFC 9162 §2.1.4.1)."""
    n = len(leaf_hashes)
    if not 0 < old_size <= n:
        raise ValueError(f"old size {old_size} must be in [1, {n}]")
    return _subproof(old_size, leaf_hashes, True)


def verify_consistency(
    old_size: int, new_size: int, old_root: bytes, new_root: bytes, proof: Sequence[bytes]
) -> bool:
    """Verify a consistency proof (RFC 9162 §2.1.4.2)."""
    if old_size > new_size or old_size == 0:
        return False
    if old_size == new_size:
        return not proof and old_root == new_root
    path = list(proof)
    if old_size & (old_size - 1) == 0:  # exact power of two: old root is implied
        path.insert(0, old_root)
    if not path:
        return False
    fn, sn = old_size - 1, new_size - 1
    while fn & 1:
        fn >>= 1
        sn >>= 1
    fr = sr = path[0]
    for c in path[1:]:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            fr = node_hash(c, fr)
            sr = node_hash(c, sr)
            if not fn & 1:
                while fn and not fn & 1:
                    fn >>= 1
                    sn >>= 1
        else:
            sr = node_hash(sr, c)
        fn >>= 1
        sn >>= 1
    return sn == 0 and fr == old_root and sr == new_root
