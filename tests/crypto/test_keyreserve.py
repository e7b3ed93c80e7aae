"""The key pool's reserve on disk: keys made in spare time for the next run, each handed out once."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
import threading
import time

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from tests_support import wait_until

from kv_emulator.objects import keypool, keyreserve
from kv_emulator.objects.keyreserve import KeyReserve

pytestmark = pytest.mark.slow

KIND = (2048, 65537)


def _modulus(key_or_der):
    if isinstance(key_or_der, bytes):
        key_or_der = serialization.load_der_private_key(key_or_der, password=None)
    return key_or_der.private_numbers().public_numbers.n


def _fill(reserve: KeyReserve, count: int, kind=KIND) -> None:
    """Keys put in place the way the worker puts them (its own function)."""
    from kv_emulator.objects.rsa_worker import write_key

    reserve.want(kind)
    for _ in range(count):
        key = rsa.generate_private_key(public_exponent=kind[1], key_size=kind[0])
        der = key.private_bytes(
            serialization.Encoding.DER, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
        write_key(str(reserve.kind_folder(kind)), der)


def test_the_pool_fills_the_reserve_in_spare_time_and_the_next_run_takes_from_it(tmp_path):
    first_run = keypool.RsaKeyPool(depth=1, reserve=KeyReserve(tmp_path, limit=2))
    try:
        made_inline = first_run.take(2048)  # nothing anywhere yet: generated here
        assert first_run.from_reserve == 0
        wait_until(lambda: first_run.reserve.count(KIND) == 2 and not first_run.busy, timeout=60)
    finally:
        first_run.shutdown()
    folder = tmp_path / "2048-65537"
    files = sorted(folder.glob("*.der"))
    assert len(files) == 2
    assert stat.S_IMODE(folder.stat().st_mode) == 0o700 and stat.S_IMODE(tmp_path.stat().st_mode) == 0o700
    assert all(stat.S_IMODE(path.stat().st_mode) == 0o600 for path in files)
    on_disk = {_modulus(path.read_bytes()) for path in files}

    next_run = keypool.RsaKeyPool(depth=1, reserve=KeyReserve(tmp_path, limit=2))
    try:
        key = next_run.take(2048)  # the worker has not even started: the key is one from the reserve
        assert next_run.from_reserve == 1 and next_run.served == 1
        assert key.key_size == 2048 and key.private_numbers().public_numbers.e == 65537
        assert _modulus(key) in on_disk and _modulus(key) != _modulus(made_inline)
        assert _modulus(key) not in {_modulus(path.read_bytes()) for path in folder.glob("*.der")}  # gone from disk
    finally:
        next_run.shutdown()


def test_a_reserved_key_is_claimed_by_exactly_one_taker(tmp_path):
    reserve = KeyReserve(tmp_path)
    _fill(reserve, 6)
    claimed: list[bytes] = []
    lock = threading.Lock()

    def take_all(own: KeyReserve) -> None:
        while (der := own.claim(KIND)) is not None:
            with lock:
                claimed.append(der)

    threads = [threading.Thread(target=take_all, args=(KeyReserve(tmp_path),)) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(claimed) == 6 and len({_modulus(der) for der in claimed}) == 6
    assert reserve.count(KIND) == 0 and list((tmp_path / "2048-65537").iterdir()) == []


def test_another_process_claims_what_this_one_did_not(tmp_path):
    reserve = KeyReserve(tmp_path)
    _fill(reserve, 3)
    mine = reserve.claim(KIND)
    script = (
        "import sys; from pathlib import Path; from kv_emulator.objects.keyreserve import KeyReserve\n"
        "r = KeyReserve(Path(sys.argv[1])); n = 0\n"
        "while r.claim((2048, 65537)) is not None: n += 1\n"
        "print(n)"
    )
    result = subprocess.run([sys.executable, "-c", script, str(tmp_path)], capture_output=True, text=True, check=True)
    assert mine is not None and result.stdout.strip() == "2"
    assert reserve.claim(KIND) is None


def test_leftovers_of_a_dead_process_are_swept_only_when_stale(tmp_path):
    reserve = KeyReserve(tmp_path)
    reserve.want(KIND)
    folder = reserve.kind_folder(KIND)
    stale, fresh = folder / "a.1-2-3.claimed", folder / ".b.part"
    for path in (stale, fresh):
        path.write_bytes(b"x")
    old = time.time() - 2 * 3600
    os.utime(stale, (old, old))
    assert reserve.count(KIND) == 0
    assert not stale.exists() and fresh.exists()


def test_the_reserve_folder_comes_from_the_environment(monkeypatch, tmp_path):
    monkeypatch.delenv("KV_EMULATOR_KEY_RESERVE", raising=False)
    monkeypatch.setenv("KV_EMULATOR_CACHE", str(tmp_path / "cache"))
    assert keyreserve.default_folder() == tmp_path / "cache" / "rsa-keys"
    monkeypatch.delenv("KV_EMULATOR_CACHE")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert keyreserve.default_folder() == tmp_path / "xdg" / "kv-emulator" / "rsa-keys"
    monkeypatch.setenv("KV_EMULATOR_KEY_RESERVE", str(tmp_path / "mine"))
    assert keyreserve.default_folder() == tmp_path / "mine"
    monkeypatch.setenv("KV_EMULATOR_KEY_RESERVE", "0")
    assert keyreserve.default_folder() is None and KeyReserve.default() is None


def test_an_unwritable_reserve_only_means_no_reserve(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    pool = keypool.RsaKeyPool(depth=1, reserve=KeyReserve(blocker / "rsa-keys"))
    try:
        assert pool.take(2048).key_size == 2048
        assert pool.from_reserve == 0
    finally:
        pool.shutdown()


@pytest.mark.skipif(not hasattr(os, "nice"), reason="POSIX priorities")
def test_shutdown_stops_a_worker_busy_with_reserve_keys(tmp_path):
    pool = keypool.RsaKeyPool(depth=1, reserve=KeyReserve(tmp_path, limit=50))
    pool.take(4096)
    wait_until(lambda: any(folder for _, folder in pool._asked), timeout=60)  # the worker is making reserve keys
    process = pool._process
    pool.shutdown()
    assert process is not None and process.poll() is not None


def test_only_the_usual_exponent_is_kept_in_reserve(tmp_path):
    pool = keypool.RsaKeyPool(depth=1, reserve=KeyReserve(tmp_path, limit=1))
    try:
        assert pool.take(2048, 3).private_numbers().public_numbers.e == 3
        wait_until(lambda: not pool.busy, timeout=60)
        assert not (tmp_path / "2048-3").exists() and pool.from_reserve == 0
    finally:
        pool.shutdown()


def test_no_home_folder_means_no_reserve(monkeypatch):
    for name in ("KV_EMULATOR_KEY_RESERVE", "KV_EMULATOR_CACHE", "XDG_CACHE_HOME", "LOCALAPPDATA"):
        monkeypatch.delenv(name, raising=False)

    def no_home() -> None:
        raise RuntimeError("Could not determine home directory.")

    monkeypatch.setattr(keyreserve.Path, "home", staticmethod(no_home))
    assert keyreserve.default_folder() is None
