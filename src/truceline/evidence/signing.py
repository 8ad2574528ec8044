"""Ed25519 signatures over tree heads (signed checkpoints).

A log instance holds a private key in ``keys/log-signing.key`` (created on first
use, readable only by its owner) and publishes ``keys/log-signing.pub``. Every
tree head is signed, so a party holding the public key can tell that a head was
issued by this log and not forged after the fact.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import (
    Ed25519PrivateKey,
    Ed25519PublicKey,
)
from cryptography.hazmat.primitives.serialization import (
    Encoding,
    NoEncryption,
    PrivateFormat,
    PublicFormat,
)

from truceline.model.ids import sha256_hex

__all__ = ["Signer", "Verifier"]


@dataclass(frozen=True)
class Verifier:
    """Checks signatures made by a :class:`Signer`."""

    public_key: Ed25519PublicKey

    @property
    def key_id(self) -> str:
        """Hex SHA-256 of the raw public key (first 16 hex digits)."""
        raw = self.public_key.public_bytes(Encoding.Raw, PublicFormat.Raw)
        return sha256_hex(raw)[:16]

    def verify(self, message: bytes, signature_hex: str) -> bool:
        """True when ``signature_hex`` is a valid signature of ``message``."""
        try:
            self.public_key.verify(bytes.fromhex(signature_hex), message)
        except (InvalidSignature, ValueError):
            return False
        return True

    @classmethod
    def load(cls, path: Path) -> Verifier:
        """Load a raw 32-byte public key stored as hex."""
        raw = bytes.fromhex(path.read_text(encoding="ascii").strip())
        return cls(Ed25519PublicKey.from_public_bytes(raw))


@dataclass(frozen=True)
class Signer:
    """Signs tree heads with an Ed25519 private key."""

    private_key: Ed25519PrivateKey

    @property
    def verifier(self) -> Verifier:
        """The matching verifier."""
        return Verifier(self.private_key.public_key())

    def sign(self, message: bytes) -> str:
        """Hex signature of ``message``."""
        return self.private_key.sign(message).hex()

    @classmethod
    def load_or_create(cls, key_dir: Path) -> Signer:
        """Load the log's key from ``key_dir``, creating it on first use."""
        key_dir.mkdir(parents=True, exist_ok=True)
        private_path = key_dir / "log-signing.key"
        public_path = key_dir / "log-signing.pub"
        if private_path.exists():
            raw = bytes.fromhex(private_path.read_text(encoding="ascii").strip())
            signer = cls(Ed25519PrivateKey.from_private_bytes(raw))
        else:
            signer = cls(Ed25519PrivateKey.generate())
            raw = signer.private_key.private_bytes(Encoding.Raw, PrivateFormat.Raw, NoEncryption())
            descriptor = os.open(private_path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(descriptor, "w", encoding="ascii") as handle:
                handle.write(raw.hex() + "\n")
        if not public_path.exists():
            public = signer.private_key.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
            public_path.write_text(public.hex() + "\n", encoding="ascii")
        return signer
