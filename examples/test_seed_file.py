"""Seed files: start an emulator with vaults already filled in (docs/seed-files.md).

In pytest, ``--kv-seed examples/vaults.toml`` (or ``kv_seed`` in the ini file, or ``PYTEST_KV_SEED``) seeds
the session emulator and every ``keyvault`` fixture; without pytest, ``emulate(seed=...)`` does the same.
"""

from __future__ import annotations

from pathlib import Path

from azure.keyvault.certificates import CertificateClient
from azure.keyvault.keys import KeyClient
from azure.keyvault.secrets import SecretClient

import kv_emulator

SEED = Path(__file__).with_name("vaults.toml")
VAULT_URL = "https://orders-app.vault.azure.net"


def test_the_seeded_vault_is_there_from_the_start():
    with kv_emulator.emulate(seed=SEED) as kv:
        secret = SecretClient(VAULT_URL, kv.credential).get_secret("db-password")
        assert (secret.value, secret.properties.tags) == ("hunter2", {"owner": "orders"})
        assert secret.properties.recoverable_days == 7  # the vault's own setting from the file
        assert KeyClient(VAULT_URL, kv.credential).get_key("signing").key.crv == "P-256"
        cert = CertificateClient(VAULT_URL, kv.credential).get_certificate("web")
        assert cert.policy.subject == "CN=orders.example.com"


def test_dump_writes_a_seed_that_loads_back(tmp_path):
    with kv_emulator.emulate(seed=SEED) as kv:
        SecretClient(VAULT_URL, kv.credential).set_secret("written-by-the-test", "yes")
        kv.dump(tmp_path / "state.json")
    with kv_emulator.emulate(seed=tmp_path / "state.json") as again:
        assert SecretClient(VAULT_URL, again.credential).get_secret("written-by-the-test").value == "yes"


def test_a_bad_seed_names_the_path_inside_the_file(tmp_path):
    bad = tmp_path / "bad.toml"
    bad.write_text('[vaults.orders-app.secrets.db-password]\nvalue = "x"\nexpires = "soon"\n')
    try:
        kv_emulator.Emulator().load(bad)
    except kv_emulator.SeedError as error:
        assert "vaults.orders-app.secrets.db-password.expires: not a date-time: 'soon'" in str(error)
    else:
        raise AssertionError("a bad seed must fail")
