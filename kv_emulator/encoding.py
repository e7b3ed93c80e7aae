"""base64url as the Key Vault wire uses it, and a JSON body's nesting depth: the base layer's codecs.

This module imports nothing from kv_emulator, so every layer may use it. Decoding raises ``ValueError``;
the layers above turn that into their own error (a 400 naming the wire field, for instance).
"""

from __future__ import annotations

import base64
import itertools

__all__ = ["MAX_JSON_DEPTH", "b64url_decode", "b64url_encode", "json_too_deep"]

#: The deepest nesting of arrays and objects a request body may have. The services' own limit is not
#: recorded; 64 is the default of .NET's JSON readers (System.Text.Json and Json.NET). Python's parser
#: recurses per level and fails at about 1,000 (``RecursionError``), so bodies are checked before parsing.
MAX_JSON_DEPTH = 64
_NOT_BRACKETS = bytes(b for b in range(256) if b not in b"[]{}")
_STEPS = bytes.maketrans(b"[{]}", b"\x01\x01\xff\xff")  # as signed bytes: +1 in, -1 out


def json_too_deep(raw: bytes, limit: int = MAX_JSON_DEPTH) -> bool:
    """Whether a JSON text nests arrays and objects deeper than ``limit``, found without parsing it (brackets
    inside strings do not count; an unclosed one counts as open). Cheap for a body with few brackets, which
    is every usual one, and all in C for the others (about 0.2 s for 4 MiB of brackets)."""
    if raw.count(b"[") + raw.count(b"{") <= limit:
        return False
    unescaped = raw.replace(b"\\\\", b"").replace(b'\\"', b"")  # then every quote opens or closes a string
    outside = b"".join(unescaped.split(b'"')[::2])
    steps = outside.translate(_STEPS, _NOT_BRACKETS)
    return max(itertools.accumulate(memoryview(steps).cast("b")), default=0) > limit


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
