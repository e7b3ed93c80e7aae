"""The RSA key pool: keys come from the worker process, each once, with the same quality as inline ones."""

from __future__ import annotations

import pytest
from azure.keyvault.keys import KeyClient
from cryptography.hazmat.primitives.asymmetric import rsa
from tests_support import wait_until

from kv_emulator.objects import keypool

pytestmark = pytest.mark.slow


@pytest.fixture
def pool():
    fresh = keypool.RsaKeyPool(depth=2)
    yield fresh
    fresh.shutdown()


def test_pool_serves_fresh_distinct_keys_from_its_worker(pool):
    first = pool.take(2048)  # nothing ready yet: generated inline, and the worker is asked for more
    assert pool.served == 0
    wait_until(lambda: len(pool._ready[(2048, 65537)]) == 2)
    second, third = pool.take(2048), pool.take(2048)
    assert pool.served == 2
    moduli = {key.private_numbers().public_numbers.n for key in (first, second, third)}
    assert len(moduli) == 3  # never the same key twice
    for key in (second, third):
        assert isinstance(key, rsa.RSAPrivateKey) and key.key_size == 2048
        assert key.private_numbers().public_numbers.e == 65537


def test_pool_keeps_sizes_and_exponents_apart(pool):
    pool.take(3072, 3)
    wait_until(lambda: len(pool._ready[(3072, 3)]) >= 1)
    key = pool.take(3072, 3)
    assert (key.key_size, key.private_numbers().public_numbers.e) == (3072, 3)


def test_a_dead_worker_falls_back_to_inline_generation(pool):
    pool.take(2048)
    pool._process.kill()
    pool._process.wait()
    wait_until(lambda: pool._broken)
    assert pool.take(2048).key_size == 2048


def test_pool_can_be_turned_off(monkeypatch):
    monkeypatch.setenv("KV_EMULATOR_KEY_POOL", "0")
    assert keypool.shared_pool() is None


def test_create_key_uses_the_shared_pool(keyvault):
    shared = keypool.shared_pool()
    if shared is None:
        pytest.skip("KV_EMULATOR_KEY_POOL=0 in this environment")
    client = KeyClient(keyvault.vault_url, keyvault.credential)
    client.create_rsa_key("warm")
    wait_until(lambda: len(shared._ready[(2048, 65537)]) >= 1)
    before = shared.served
    key = client.create_rsa_key("pooled")
    assert shared.served == before + 1
    assert len(key.key.n) * 8 == 2048
