"""An application under test: it reads only environment variables and imports nothing from kv_emulator.

``python kv_client.py sync|async environment|managed|default`` uses secrets, keys (with CryptographyClient)
and certificates (create and poll) at ``$AZURE_KEYVAULT_URL`` and prints what it saw as JSON.
"""

from __future__ import annotations

import asyncio
import json
import os
import sys
import uuid

from azure.keyvault.certificates import CertificatePolicy
from azure.keyvault.keys.crypto import EncryptionAlgorithm, SignatureAlgorithm

URL = os.environ["AZURE_KEYVAULT_URL"]
NAME = f"app-{uuid.uuid4().hex[:8]}"
PAYLOAD = b"payload"
DIGEST = bytes(range(32))


def sync_credential(kind: str):
    from azure.identity import DefaultAzureCredential, EnvironmentCredential, ManagedIdentityCredential

    return {
        "environment": EnvironmentCredential,
        "managed": ManagedIdentityCredential,
        "default": DefaultAzureCredential,
    }[kind]()


def async_credential(kind: str):
    from azure.identity.aio import DefaultAzureCredential, EnvironmentCredential, ManagedIdentityCredential

    return {
        "environment": EnvironmentCredential,
        "managed": ManagedIdentityCredential,
        "default": DefaultAzureCredential,
    }[kind]()


def run_sync(kind: str) -> dict:
    from azure.keyvault.certificates import CertificateClient
    from azure.keyvault.keys import KeyClient
    from azure.keyvault.keys.crypto import CryptographyClient
    from azure.keyvault.secrets import SecretClient

    credential = sync_credential(kind)
    secrets = SecretClient(URL, credential)
    secrets.set_secret(NAME, "v1")
    secret = secrets.get_secret(NAME)
    key = KeyClient(URL, credential).create_rsa_key(NAME, size=2048)
    crypto = CryptographyClient(key, credential)
    decrypted = crypto.decrypt(
        EncryptionAlgorithm.rsa_oaep, crypto.encrypt(EncryptionAlgorithm.rsa_oaep, PAYLOAD).ciphertext
    )
    signature = crypto.sign(SignatureAlgorithm.rs256, DIGEST).signature
    verified = crypto.verify(SignatureAlgorithm.rs256, DIGEST, signature).is_valid
    certificate = (
        CertificateClient(URL, credential)
        .begin_create_certificate(NAME + "-cert", CertificatePolicy.get_default())
        .result()
    )
    return {
        "secret": secret.value,
        "secret_id": secret.id,
        "decrypted": decrypted.plaintext.decode(),
        "verified": verified,
        "certificate_id": certificate.id,
        "thumbprint": certificate.properties.x509_thumbprint.hex(),
    }


async def run_async(kind: str) -> dict:
    from azure.keyvault.certificates.aio import CertificateClient
    from azure.keyvault.keys.aio import KeyClient
    from azure.keyvault.keys.crypto.aio import CryptographyClient
    from azure.keyvault.secrets.aio import SecretClient

    credential = async_credential(kind)
    async with credential, SecretClient(URL, credential) as secrets, KeyClient(URL, credential) as keys:
        await secrets.set_secret(NAME, "v1")
        secret = await secrets.get_secret(NAME)
        key = await keys.create_rsa_key(NAME, size=2048)
        async with CryptographyClient(key, credential) as crypto:
            encrypted = await crypto.encrypt(EncryptionAlgorithm.rsa_oaep, PAYLOAD)
            decrypted = await crypto.decrypt(EncryptionAlgorithm.rsa_oaep, encrypted.ciphertext)
            signature = (await crypto.sign(SignatureAlgorithm.rs256, DIGEST)).signature
            verified = (await crypto.verify(SignatureAlgorithm.rs256, DIGEST, signature)).is_valid
        async with CertificateClient(URL, credential) as certificates:
            # the async client polls inside create_certificate
            certificate = await certificates.create_certificate(NAME + "-cert", CertificatePolicy.get_default())
    return {
        "secret": secret.value,
        "secret_id": secret.id,
        "decrypted": decrypted.plaintext.decode(),
        "verified": verified,
        "certificate_id": certificate.id,
        "thumbprint": certificate.properties.x509_thumbprint.hex(),
    }


if __name__ == "__main__":
    mode, kind = sys.argv[1], sys.argv[2]
    result = run_sync(kind) if mode == "sync" else asyncio.run(run_async(kind))
    print(json.dumps({"name": NAME, **result}))
