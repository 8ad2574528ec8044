"""Many RFC 9162 inclusion proofs against one tree, without recomputing it per proof.

:func:`truceline.evidence.merkle.inclusion_proof` recomputes subtree roots
from the leaves for every proof (O(n) each). An escalation record carries a
proof for every observation behind it, so :class:`TreeProofs` hashes the tree
once (O(n)) and then answers each proof in O(log n). The audit paths are the
RFC 9162 §2.1.3.1 paths, checkable with
:func:`~truceline.evidence.merkle.verify_inclusion`.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from truceline.evidence.merkle import EMPTY_ROOT, leaf_hash, node_hash

__all__ = ["TreeProofs"]


def _split(n: int) -> int:
    """Largest power of two strictly smaller than ``n`` (n >= 2)."""
    return 1 << ((n - 1).bit_length() - 1)


class TreeProofs:
    """Inclusion proofs for the leaves of one tree.

    Parameters
    ----------
    leaf_hashes
        The tree's leaf hashes, in log order.
    """

    def __init__(self, leaf_hashes: Sequence[bytes]) -> None:
        self.size = len(leaf_hashes)
        # levels[h][j]: root of the perfect subtree over leaves [j·2^h, (j+1)·2^h)
        self._levels: list[list[bytes]] = [list(leaf_hashes)]
        while len(self._levels[-1]) > 1:
            below = self._levels[-1]
            self._levels.append(
                [node_hash(below[i], below[i + 1]) for i in range(0, len(below) - 1, 2)]
            )

    @classmethod
    def from_entries(cls, entries: Iterable[bytes]) -> TreeProofs:
        """Build from the raw entry bytes (leaf data) in log order."""
        return cls([leaf_hash(entry) for entry in entries])

    def leaf(self, index: int) -> bytes:
        """Leaf hash at ``index``."""
        return self._levels[0][index]

    def _root(self, lo: int, hi: int) -> bytes:
        """Merkle tree hash over leaves ``[lo, hi)``."""
        n = hi - lo
        if n & (n - 1) == 0 and lo % n == 0:
            height = n.bit_length() - 1
            return self._levels[height][lo >> height]
        k = _split(n)
        return node_hash(self._root(lo, lo + k), self._root(lo + k, hi))

    def root(self) -> bytes:
        """Root hash of the whole tree."""
        return EMPTY_ROOT if self.size == 0 else self._root(0, self.size)

    def proof(self, index: int) -> list[bytes]:
        """Audit path of leaf ``index`` (RFC 9162 §2.1.3.1).

        Raises
        ------
        IndexError
            If ``index`` is outside the tree.
        """
        if not 0 <= index < self.size:
            raise IndexError(f"leaf index {index} outside a tree of size {self.size}")
        path: list[bytes] = []
        lo, hi = 0, self.size
        while hi - lo > 1:
            k = _split(hi - lo)
            if index < lo + k:
                path.append(self._root(lo + k, hi))
                hi = lo + k
            else:
                path.append(self._root(lo, lo + k))
                lo = lo + k
        path.reverse()  # the RFC lists the path from the leaf up
        return path
