"""A key-heavy test: RSA keys come from the emulator's key pool (and its reserve on disk), each one fresh.

Run: python -m pytest examples/test_many_keys.py -s
"""

from azure.keyvault.keys import KeyClient


def test_many_rsa_keys_are_all_fresh(keyvault):
    client = KeyClient(keyvault.vault_url, keyvault.credential)
    moduli = {client.create_rsa_key(f"key-{i}", size=2048).key.n for i in range(10)}
    assert len(moduli) == 10  # never the same key twice, whether made ahead of time or now

    pool = keyvault.key_pool  # None when KV_EMULATOR_KEY_POOL=0
    if pool is not None:
        print(f"{pool.served} keys came from the pool, {pool.from_reserve} of them from the reserve on disk")
