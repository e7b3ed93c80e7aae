"""Backup blobs: opaque, authenticated, and restorable only by the emulator that made them.

A blob is ``AzureKeyVaultEmulator{Kind}BackupV1`` followed by an AES-256-GCM sealed document (nonce first).
The key belongs to one :class:`~kv_emulator.Emulator` (like a subscription in the real service), so a blob
that was changed, cut, or made elsewhere is refused.
"""

from __future__ import annotations

import os

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from ..errors import BackupBlobInvalid, BadParameter

__all__ = ["MAX_BACKUP_VERSIONS", "BackupSealer", "check_backup_size"]

_NONCE_BYTES = 12
#: The service backs up at most this many versions of one object (Microsoft's "Azure Key Vault backup").
MAX_BACKUP_VERSIONS = 500


def check_backup_size(kind: str, name: str, versions: int) -> None:
    """Refuse, as the service does, to back up an object with more than 500 versions."""
    if versions > MAX_BACKUP_VERSIONS:
        raise BadParameter(  # unverified text; the docs say only that "attempting to do so may result in an error"
            f"The {kind} {name} has {versions} versions; backup supports at most {MAX_BACKUP_VERSIONS} versions."
        )


def _magic(kind: str) -> bytes:
    return f"AzureKeyVaultEmulator{kind.capitalize()}BackupV1".encode()


class BackupSealer:
    def __init__(self, key: bytes | None = None) -> None:
        self.use_key(key or AESGCM.generate_key(bit_length=256))

    @property
    def key(self) -> bytes:
        """The AES-256 key: state a server keeps, so a backup taken before a restart restores after it."""
        return self._key

    def use_key(self, key: bytes) -> None:
        """Seal and open with ``key`` from now on (a restored state's)."""
        self._aead = AESGCM(key)
        self._key = key

    def seal(self, kind: str, document: bytes) -> bytes:
        nonce = os.urandom(_NONCE_BYTES)
        magic = _magic(kind)
        return magic + nonce + self._aead.encrypt(nonce, document, magic)

    def open(self, kind: str, blob: bytes) -> bytes:
        """The sealed document. The magic is the blob's version: with it, a blob that was cut, changed or sealed
        by another emulator is "corrupt". Without it, the blob is read as the service reads its own, which
        begin with a length byte and a version string: a length running past the end is "corrupt" (short
        garbage such as "doesnotexist"), a version it does not know (all zeros, another kind's blob) is
        "invalid or corrupt version" (recorded, see :class:`~kv_emulator.errors.BackupBlobInvalid`)."""
        magic = _magic(kind)
        if not blob.startswith(magic):
            raise BackupBlobInvalid(corrupt=not blob or len(blob) < 1 + blob[0])
        if len(blob) < len(magic) + _NONCE_BYTES + 16:
            raise BackupBlobInvalid(corrupt=True)
        nonce = blob[len(magic) : len(magic) + _NONCE_BYTES]
        try:
            return self._aead.decrypt(nonce, blob[len(magic) + _NONCE_BYTES :], magic)
        except InvalidTag:
            raise BackupBlobInvalid(corrupt=True) from None
