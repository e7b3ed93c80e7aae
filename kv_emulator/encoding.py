"""base64url as the Key Vault wire uses it: the base layer's only codec, shared by models and identity.

This module imports nothing from kv_emulator, so every layer may use it. Decoding raises ``ValueError``;
the layers above turn that into their own error (a 400 naming the wire field, for instance).
"""

from __future__ import annotations

import base64

__all__ = ["b64url_decode", "b64url_encode"]


def b64url_encode(data: bytes) -> str:
    """base64url without padding: the form of every binary JWK and operation field on the wire."""
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def b64url_decode(text: str) -> bytes:
    """Decode base64url leniently: padding, surrounding whitespace and the standard ``+/`` alphabet are
    accepted (the spec's own wrapKey example uses them); anything else raises ``ValueError``."""
    if not isinstance(text, str):
        raise ValueError("base64url text must be a string")
    cleaned = text.strip().rstrip("=").replace("+", "-").replace("/", "_")
    # binascii.Error, raised for bad characters or length, is a ValueError
    return base64.b64decode(cleaned + "=" * (-len(cleaned) % 4), altchars=b"-_", validate=True)
