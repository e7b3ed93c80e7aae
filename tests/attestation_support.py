"""An OpenEnclave report as an enclave would send it to Microsoft Azure Attestation (tests/hsm and the Node
client's run in tests/server)."""

from __future__ import annotations

import hashlib

MRSIGNER = bytes(range(32))


def oe_report(*, debuggable: bool = True, product_id: int = 7, svn: int = 3, mrsigner: bytes = MRSIGNER) -> bytes:
    """An OpenEnclave remote report: oe_report_header_t, then an SGX quote (v3 header, report body)."""
    body = bytearray(384)
    body[48:56] = (0x4 | (0x2 if debuggable else 0)).to_bytes(8, "little")  # MODE64BIT, DEBUG
    body[64:96] = hashlib.sha256(b"enclave code").digest()  # MRENCLAVE
    body[128:160] = mrsigner
    body[256:258] = product_id.to_bytes(2, "little")
    body[258:260] = svn.to_bytes(2, "little")
    quote = (3).to_bytes(2, "little") + (2).to_bytes(2, "little") + bytes(44) + bytes(body) + bytes(4)
    return (1).to_bytes(4, "little") + (2).to_bytes(4, "little") + len(quote).to_bytes(8, "little") + quote
