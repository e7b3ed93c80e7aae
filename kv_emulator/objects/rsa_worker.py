"""The key pool's worker: a separate Python process that only makes RSA keys (run by file path).

It reads ``<bits> <exponent>`` lines on stdin and answers each with a 4-byte big-endian length and the
PKCS#8 DER of a new key. It imports nothing but ``cryptography``, so starting it is cheap and it never
re-runs the parent's main module (as multiprocessing's spawn would). It ends when stdin closes.
"""

from __future__ import annotations

import struct
import sys

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa


def main() -> None:
    out = sys.stdout.buffer
    for line in sys.stdin.buffer:
        bits, exponent = (int(part) for part in line.split())
        key = rsa.generate_private_key(public_exponent=exponent, key_size=bits)
        der = key.private_bytes(
            serialization.Encoding.DER, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
        out.write(struct.pack(">I", len(der)) + der)
        out.flush()


if __name__ == "__main__":
    main()
