"""An emulator with a little of everything the state format keeps, for the state tests (tests/test_state_*.py)."""

from __future__ import annotations

import json
from typing import Any

from werkzeug.test import Client

import kv_emulator
from kv_emulator.objects.rotation import KeyLifetimeAction, RotationPolicy

SUB = "00000000-0000-0000-0000-00000000c0de"
ARM_VERSION = "2023-07-01"


def arm(kv: kv_emulator.Emulator, method: str, path: str, body: Any = None, version: str = ARM_VERSION) -> Any:
    token = kv.credential.get_token("https://management.azure.com/.default").token
    answer = Client(kv.management).open(
        f"{path}?api-version={version}",
        method=method,
        base_url="https://management.azure.com",
        data=json.dumps(body) if body is not None else None,
        content_type="application/json",
        headers={"Authorization": f"Bearer {token}"},
    )
    assert answer.status_code < 300, answer.get_data(as_text=True)
    return answer


def populate(kv: kv_emulator.Emulator) -> None:
    """Old versions, deleted objects, a rotation policy, certificates done, pending and waiting for a merge,
    issuers and contacts, access policies, network rules, a principal, ARM records and a deleted vault."""
    vault = kv.vault()
    vault.secrets.set("db", "v1", content_type="text/plain", tags={"env": "ci"})
    vault.secrets.set("db", "v2", not_before=1_700_000_000, expires=2_000_000_000)
    vault.secrets.set("gone", "bye")
    vault.secrets.delete("gone")
    vault.keys.create("rsa", "RSA", size=2048)
    vault.keys.rotate("rsa")
    vault.keys.import_key("ec", {"kty": "EC", **_ec_jwk()}, key_ops=["sign", "verify"])
    vault.keys.set_rotation_policy(
        "rsa", RotationPolicy([KeyLifetimeAction("timeAfterCreate", "P30D", "Rotate")], "P90D", 0, 0)
    )
    vault.keys.create("old-key", "EC")
    vault.keys.delete("old-key")
    vault.certificates.issuers.set("my-ca", "Test", account_id="acct", password="pw")
    vault.certificates.create("web", {"issuer": {"name": "Self"}, "x509_props": {"subject": "CN=web"}})
    vault.certificates.create("merge-me", {"issuer": {"name": "Unknown"}, "x509_props": {"subject": "CN=m"}})
    vault.certificates.contacts.set([{"email": "ops@example.com", "name": "Ops"}])
    vault.authorization.set_access_policy("0000-principal", secrets=["get", "list"], keys=["all"])
    vault.network.configure(public_network_access=True, default_action="Deny", ip_rules=["10.0.0.0/8", "127.0.0.1"])
    hsm = kv.vault("https://state-hsm.managedhsm.azure.net")
    hsm.keys.create("aes", "oct-HSM", size=256)
    kv.identity.add_service_principal("app-1", secret="s3cret", display_name="App one")
    group = f"/subscriptions/{SUB}/resourceGroups/rg-state"
    arm(kv, "PUT", group, {"location": "westus", "tags": {"team": "a"}}, version="2021-04-01")
    props = {"tenantId": kv.settings.tenant_id, "sku": {"family": "A", "name": "standard"}}
    for name in ("armvault", "dropped"):
        arm(
            kv,
            "PUT",
            f"{group}/providers/Microsoft.KeyVault/vaults/{name}",
            {"location": "westus", "properties": props},
        )
    kv.vault("dropped").secrets.set("inside", "a deleted vault keeps its data")
    arm(kv, "DELETE", f"{group}/providers/Microsoft.KeyVault/vaults/dropped")
    kv.clock.advance(hours=1)


def _ec_jwk() -> dict[str, str]:
    from cryptography.hazmat.primitives.asymmetric import ec
    from jwt.algorithms import ECAlgorithm

    jwk = ECAlgorithm.to_jwk(ec.generate_private_key(ec.SECP256R1()), as_dict=True)
    return {name: jwk[name] for name in ("crv", "x", "y", "d")}
