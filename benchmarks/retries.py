"""How long does a retry test take with real back-off, and with virtual time?

The scenario: the unmodified ``SecretClient.get_secret`` with azure-core's default ``RetryPolicy`` meets
three 503s and then succeeds (``emulator.faults.script("GetSecret", [503, 503, 503, "ok"])``). The policy
waits 0, 1.6 and 3.2 seconds between the attempts: 4.8 seconds of back-off.

- real time (``virtual_time=False``): the SDK really sleeps; run once, it takes about 4.8 s;
- virtual time (``virtual_time=True``): the emulator turns each sleep into a move of its clock; run
  ``--repeats`` times (default 50), sync and async, and the median is reported.

The script checks that every run made the same four attempts with the same delays, prints the wall
times and the speed-up, and takes about 5 s in all (less than a second with ``--skip-real``).

    python benchmarks/retries.py [--repeats 50] [--skip-real]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import platform
import statistics
import sys
import time
from pathlib import Path

from azure.keyvault.secrets import SecretClient
from azure.keyvault.secrets.aio import SecretClient as AsyncSecretClient

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import kv_emulator

SCRIPT = [503, 503, 503, "ok"]
EXPECTED_STATUSES = [503, 503, 503, 200]
EXPECTED_DELAYS = [0.0, 1.6, 3.2]


def _check(emulator: kv_emulator.Emulator) -> None:
    [call] = emulator.requests.calls("GetSecret")
    if call.statuses != EXPECTED_STATUSES or call.delays != EXPECTED_DELAYS:
        raise SystemExit(f"unexpected attempts: statuses {call.statuses}, delays {call.delays}")


def sync_run(virtual: bool) -> float:
    """Seconds of wall time for one ``get_secret`` that meets the script (the setup is not timed)."""
    with kv_emulator.emulate(virtual_time=virtual) as emulator:
        client = SecretClient(emulator.vault_url, emulator.credential)
        client.set_secret("bench", "value")  # meets the SDK's first-request challenge
        emulator.requests.clear()
        emulator.faults.script("GetSecret", SCRIPT)
        started = time.perf_counter()
        value = client.get_secret("bench").value
        elapsed = time.perf_counter() - started
        client.close()
        if value != "value":
            raise SystemExit(f"get_secret returned {value!r}")
        _check(emulator)
        return elapsed


async def _async_run(emulator: kv_emulator.Emulator) -> float:
    async with AsyncSecretClient(emulator.vault_url, emulator.async_credential) as client:
        await client.set_secret("bench", "value")
        emulator.requests.clear()
        emulator.faults.script("GetSecret", SCRIPT)
        started = time.perf_counter()
        secret = await client.get_secret("bench")
        elapsed = time.perf_counter() - started
    if secret.value != "value":
        raise SystemExit(f"get_secret returned {secret.value!r}")
    _check(emulator)
    return elapsed


def async_run(virtual: bool) -> float:
    with kv_emulator.emulate(virtual_time=virtual) as emulator:
        return asyncio.run(_async_run(emulator))


def _ms(seconds: float) -> str:
    return f"{seconds * 1000:9.1f} ms"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=50, help="virtual-time runs per client (default: 50)")
    parser.add_argument("--skip-real", action="store_true", help="leave out the real-time run (4.8 s)")
    args = parser.parse_args(argv)
    if args.repeats < 1:
        parser.error("--repeats must be at least 1")

    began = time.perf_counter()
    sync_run(True)  # warm-up: imports, first-use costs
    async_run(True)
    virtual_sync = [sync_run(True) for _ in range(args.repeats)]
    virtual_async = [async_run(True) for _ in range(args.repeats)]
    real = None if args.skip_real else sync_run(False)
    total = time.perf_counter() - began

    print(
        f"get_secret with the default RetryPolicy, 3 x 503 then 200 (back-off 0 + 1.6 + 3.2 s)"
        f"\n(Python {platform.python_version()}, {platform.system()} {platform.machine()}, {os.cpu_count()} CPUs)"
    )
    if real is not None:
        print(f"  real time, sync client     {_ms(real)}   (1 run)")
    for label, runs in (("virtual time, sync client", virtual_sync), ("virtual time, async client", virtual_async)):
        print(f"  {label:<26} {_ms(statistics.median(runs))}   median of {len(runs)} (best {min(runs) * 1000:.1f} ms)")
    if real is not None:
        print(f"  speed-up (sync)            {real / statistics.median(virtual_sync):9.0f}x")
    print(f"  total run time             {total:9.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
