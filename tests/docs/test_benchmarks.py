"""The benchmark scripts still run and print what benchmarks/README.md shows (tiny sizes; nothing is timed here).

Speed is measured by the scripts, never asserted by tests: these only keep the scripts from rotting.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow

BENCHMARKS = Path(__file__).resolve().parents[2] / "benchmarks"


def _run(script: str, *args: str, env: dict[str, str] | None = None) -> str:
    result = subprocess.run(
        [sys.executable, str(BENCHMARKS / script), *args],
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, **(env or {})},
    )
    assert result.returncode == 0, result.stdout + result.stderr
    return result.stdout


def test_get_secret_compares_the_emulator_with_the_canned_reply_the_sdk_alone_and_after_fixtures():
    out = _run("get_secret.py", "--iterations", "200", "--repeats", "2", "--after-fixtures", "5")
    for label in ("kv-emulator", "canned responses reply", "SDK pipeline alone"):
        assert re.search(rf"{label}\s+[\d.]+ us/call median", out), out
    assert re.search(r"ratio emulator/canned\s+[\d.]+x", out) and re.search(r"ratio emulator/sdk\s+[\d.]+x", out)
    assert re.search(r"after 5 fixtures\s+[\d.]+x a fresh process", out), out


def test_vault_size_lists_through_the_sdk_the_floor_and_the_wire():
    out = _run("vault_size.py", "--sizes", "60", "120", "--gets", "5", "--rounds", "2")
    rows = [line.split() for line in out.splitlines() if line.strip().split(" ")[0] in ("60", "120")]
    assert [row[0] for row in rows] == ["60", "120"], out
    assert all(len(row) == 12 for row in rows), out


def test_create_key_runs_without_the_pool_on_a_first_run_and_on_the_next(tmp_path):
    out = _run("create_key.py", "--keys", "2", "--gap-ms", "0", "--sizes", "2048")
    assert "key pool off:" in out and "first run (empty reserve)" in out and "next run" in out
    assert re.search(r"reserve filled in [\d.]+ s after the creates \(16 x 2048 on disk\)", out), out
    warm = out.split("next run")[1]
    assert re.search(r"create_rsa_key 2048\s+[\d.]+ ms median .*2 from the pool, \d of them from the reserve", warm)
    assert not re.search(r"0 of them from the reserve", warm), out  # the next run took from the reserve


def test_emulator_start_and_plugin_import():
    assert re.search(r"empty emulator, 20 times\s+[\d.]+ ms median", _run("emulator_start.py", "--count", "20"))
    out = _run("plugin_import.py", "--runs", "1")
    assert "kv_emulator imported                    0 of 1 runs" in out, out
    assert "kv_emulator loaded: False" in out, out


def test_retries_in_virtual_time():
    out = _run("retries.py", "--skip-real", "--repeats", "2")
    assert re.search(r"virtual time, sync client\s+[\d.]+ ms", out), out


@pytest.mark.skipif(sys.platform == "win32", reason="server benchmark uses POSIX process handling")
def test_server_benchmark_against_its_floor():
    out = _run("server.py", "--calls", "5", "--rounds", "1")
    reads, writes = out.split("set_secret:", 1)  # reads come first, then writes (PUT with a body)
    for section in (reads, writes):
        assert re.search(r"1 client\(s\)\s+kv-emulator direct\s+\d+ req/s", section), out
        assert re.search(r"8 client\(s\)\s+kv-emulator proxy\s+\d+ req/s", section), out
        assert re.search(r"8 client\(s\)\s+proxy / direct time per call: [\d.]+x", section), out


@pytest.mark.skipif(sys.platform == "win32", reason="server benchmark uses POSIX process handling")
def test_server_write_benchmark_persistent_and_ephemeral():
    out = _run("server_writes.py", "--sizes", "0", "20", "--writes", "3", "--rounds", "1")
    assert re.search(r"20 secrets\s+persistent\s+median\s+[\d.]+ ms", out), out
    assert re.search(r"persistent vs ephemeral at 20 secrets: [\d.]+x", out), out
