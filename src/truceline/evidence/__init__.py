"""The evidence log: append-only, RFC 9162 Merkle-hashed, with signed tree heads."""

from truceline.evidence.log import EvidenceLog, LogError, TreeHead
from truceline.evidence.merkle import (
    MerkleAccumulator,
    consistency_proof,
    inclusion_proof,
    leaf_hash,
    node_hash,
    root_hash,
    verify_consistency,
    verify_inclusion,
)
from truceline.evidence.verify import VerifyReport, verify_log

__all__ = [
    "EvidenceLog",
    "LogError",
    "MerkleAccumulator",
    "TreeHead",
    "VerifyReport",
    "consistency_proof",
    "inclusion_proof",
    "leaf_hash",
    "node_hash",
    "root_hash",
    "verify_consistency",
    "verify_inclusion",
    "verify_log",
]
