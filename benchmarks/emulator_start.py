"""What does a fresh emulator cost (the ``keyvault`` fixture's cost per test): ``emulate()`` start + stop?

The token-signing key is made once per process (on first use), so a started-and-stopped emulator costs
only its patches. The first emulator of a process is timed apart (it includes that key's generation if a
token is asked for, and the first imports); the rest are ``--count`` emulators, each entered and left with
nothing done inside, and then the same with one ``get_secret`` inside (the challenge and one token).

    python benchmarks/emulator_start.py [--count 500]
"""

from __future__ import annotations

import argparse
import gc
import platform
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))


def _times(count: int, body) -> list[float]:  # type: ignore[no-untyped-def]
    import kv_emulator

    times = []
    for _ in range(count):
        started = time.perf_counter()
        with kv_emulator.emulate() as kv:
            body(kv)
        times.append(time.perf_counter() - started)
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=500)
    count = parser.parse_args().count
    started = time.perf_counter()
    from azure.keyvault.secrets import SecretClient

    import kv_emulator  # noqa: F401  # timed: the first import

    imported = time.perf_counter() - started
    first = _times(1, lambda kv: kv.credential.get_token("https://vault.azure.net/.default"))[0]

    def one_call(kv) -> None:  # type: ignore[no-untyped-def]
        kv.vault().secrets.set("bench", "value")
        SecretClient(kv.vault_url, kv.credential).get_secret("bench")

    gc.disable()
    try:
        empty = _times(count, lambda kv: None)
        with_call = _times(max(1, count // 5), one_call)
    finally:
        gc.enable()
    print(f"emulate() start + stop ({platform.python_version()}, {platform.system()} {platform.machine()})")
    print(f"  import kv_emulator + azure-keyvault-secrets {imported * 1000:8.1f} ms (once)")
    print(f"  first emulator, with its first token        {first * 1000:8.1f} ms (once per process: the key)")
    print(
        f"  empty emulator, {count} times                 {statistics.median(empty) * 1000:8.3f} ms median "
        f"(p90 {sorted(empty)[int(len(empty) * 0.9)] * 1000:.3f})"
    )
    print(
        f"  with one get_secret inside, {len(with_call)} times     {statistics.median(with_call) * 1000:8.3f} ms median"
    )


if __name__ == "__main__":
    main()
