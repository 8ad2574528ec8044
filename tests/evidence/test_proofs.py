"""Batch inclusion proofs equal the reference RFC 9162 proofs."""

from __future__ import annotations

import pytest

from truceline.evidence.merkle import inclusion_proof, leaf_hash, root_hash, verify_inclusion
from truceline.evidence.proofs import TreeProofs


@pytest.mark.parametrize("size", [1, 2, 3, 5, 8, 13, 64, 100])
def test_tree_proofs_equal_the_reference_proofs(size: int) -> None:
    leaves = [leaf_hash(f"entry {i}".encode()) for i in range(size)]
    tree = TreeProofs(leaves)
    assert tree.root() == root_hash(leaves)
    for index in range(size):
        assert tree.proof(index) == inclusion_proof(index, leaves)
    with pytest.raises(IndexError):
        tree.proof(size)
        assert verify_inclusion(index, size, leaves[index], tree.proof(index), tree.root())


def test_from_entries_hashes_the_raw_entries() -> None:
    entries = [b"a", b"b", b"c"]
    tree = TreeProofs.from_entries(entries)
    assert tree.leaf(1) == leaf_hash(b"b")
    assert tree.root() == root_hash([leaf_hash(e) for e in entries])
    assert TreeProofs([]).size == 0 and TreeProofs([]).root() == root_hash([])
