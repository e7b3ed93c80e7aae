"""Bring your own key (BYOK): import a key of your own through a key exchange key, as an HSM vendor's BYOK
tool would, with ``import_key`` and a ``key_hsm`` transfer blob.

Run with ``python -m pytest examples/test_byok.py``. The vault makes the key exchange key (KEK) with the
``import`` operation; ``make_transfer_blob`` wraps your key for it (RSA-OAEP + AES key wrap with padding,
per Microsoft's BYOK specification); the SDK sends the blob as the JWK's ``t``.
"""

from __future__ import annotations

import hashlib

from azure.keyvault.keys import JsonWebKey, KeyClient, KeyType
from azure.keyvault.keys.crypto import CryptographyClient, SignatureAlgorithm
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.hazmat.primitives.asymmetric.utils import Prehashed

from kv_emulator.encoding import b64url_decode
from kv_emulator.objects.byok import make_transfer_blob


def test_bring_your_own_rsa_key(keyvault):
    client = KeyClient(keyvault.vault_url, keyvault.credential)
    kek = client.create_rsa_key("kek", hardware_protected=True, key_operations=["import"])
    kek_public = rsa.RSAPublicNumbers(int.from_bytes(kek.key.e, "big"), int.from_bytes(kek.key.n, "big")).public_key()

    mine = rsa.generate_private_key(public_exponent=65537, key_size=2048)  # the key "from your HSM"
    blob = make_transfer_blob(kek.id, kek_public, mine)  # what the BYOK tool writes to a .byok file
    byok_file = b64url_decode(blob)  # the file's bytes: a JSON document
    imported = client.import_key("mine", JsonWebKey(kty=KeyType.rsa_hsm, t=byok_file, key_ops=["sign", "verify"]))

    assert imported.key_type == KeyType.rsa_hsm
    digest = hashlib.sha256(b"signed by my own key").digest()
    signature = CryptographyClient(imported, keyvault.credential).sign(SignatureAlgorithm.rs256, digest).signature
    mine.public_key().verify(signature, digest, padding.PKCS1v15(), Prehashed(hashes.SHA256()))
