"""The key pool's worker: a separate Python process that only makes RSA keys (run by file path).

It reads ``<bits> <exponent>`` lines on stdin and answers each with a 4-byte big-endian length and the
PKCS#8 DER of a new key. A line ``<bits> <exponent> <folder>`` asks for a key for the reserve instead
(:mod:`.keyreserve`): it is written into that folder whole (a temporary name, then a rename) and answered
with a zero length. It imports nothing but ``cryptography``, so starting it is cheap and it never re-runs the
parent's main module (as multiprocessing's spawn would). It runs at a lower priority than the tests it
serves, and ends when stdin closes.
"""

from __future__ import annotations

import contextlib
import os
import struct
import sys

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa


def write_key(folder: str, der: bytes) -> None:
    """Put one key into a reserve folder whole or not at all."""
    name = os.urandom(12).hex()
    temporary = os.path.join(folder, f".{name}.part")
    descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(descriptor, "wb") as stream:
            stream.write(der)
        os.replace(temporary, os.path.join(folder, f"{name}.der"))
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temporary)
        raise


def main() -> None:
    if hasattr(os, "nice"):
        with contextlib.suppress(OSError):
            os.nice(10)  # spare time only: the tests come first
    out = sys.stdout.buffer
    for line in sys.stdin.buffer:
        bits, exponent, *folder = line.decode().split(maxsplit=2)
        key = rsa.generate_private_key(public_exponent=int(exponent), key_size=int(bits))
        der = key.private_bytes(
            serialization.Encoding.DER, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
        if folder:
            with contextlib.suppress(OSError):  # a folder that went away: the key is simply not kept
                write_key(folder[0].strip(), der)
            der = b""
        out.write(struct.pack(">I", len(der)) + der)
        out.flush()


if __name__ == "__main__":
    main()
