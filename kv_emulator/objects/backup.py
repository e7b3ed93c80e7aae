"""Backup blobs: opaque, authenticated, and restorable only by the emulator that made them.

A blob is ``AzureKeyVaultEmulator{Kind}BackupV1`` followed by an AES-256-GCM sealed document (nonce first).
The key belongs to one :class:`~kv_emulator.Emulator` (like a subscription in the real service), so a blob
that was changed, cut, or made elsewhere is refused.
"""

from __future__ import annotations

import os

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from ..errors import BackupBlobInvalid

__all__ = ["BackupSealer"]

_NONCE_BYTES = 12


def _magic(kind: str) -> bytes:
    return f"AzureKeyVaultEmulator{kind.capitalize()}BackupV1".encode()


class BackupSealer:
    def __init__(self, key: bytes | None = None) -> None:
        self._aead = AESGCM(key or AESGCM.generate_key(bit_length=256))

    def seal(self, kind: str, document: bytes) -> bytes:
        nonce = os.urandom(_NONCE_BYTES)
        magic = _magic(kind)
        return magic + nonce + self._aead.encrypt(nonce, document, magic)

    def open(self, kind: str, blob: bytes) -> bytes:
        magic = _magic(kind)
        if not blob.startswith(magic) or len(blob) < len(magic) + _NONCE_BYTES + 16:
            raise BackupBlobInvalid()
        nonce = blob[len(magic) : len(magic) + _NONCE_BYTES]
        try:
            return self._aead.decrypt(nonce, blob[len(magic) + _NONCE_BYTES :], magic)
        except InvalidTag:
            raise BackupBlobInvalid() from None
