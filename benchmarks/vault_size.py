"""Does a request cost more when the vault holds more? ``get_secret`` and listing every secret, by vault size.

For each size (default 1,000 / 10,000 / 50,000 secrets, seeded through direct access), in one process:

- ``list``: the unmodified ``SecretClient.list_properties_of_secrets()`` read to the end (the SDK follows
  ``nextLink``, 25 secrets a page, so 50,000 secrets are 2,000 requests); one run, wall time;
- ``get``: ``SecretClient.get_secret`` of one secret, median of ``--gets`` calls (garbage collection off
  while timing, as ``timeit`` does), and its ratio to the smallest size.

Listing should grow linearly with the vault (each page continues from its skiptoken), and a get should not
grow at all (time-driven work runs from a schedule, not a scan).

    python benchmarks/vault_size.py            # 1k / 10k / 50k, under a minute
    python benchmarks/vault_size.py --quick    # 1k / 10k, a few seconds
    python benchmarks/vault_size.py --sizes 1000 100000
"""

from __future__ import annotations

import argparse
import gc
import os
import platform
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from azure.keyvault.secrets import SecretClient  # noqa: E402

import kv_emulator  # noqa: E402


def measure(size: int, gets: int) -> tuple[float, float, float]:
    """(seed seconds, list seconds, median get seconds) for a vault of ``size`` secrets."""
    with kv_emulator.emulate() as kv:
        secrets = kv.vault().secrets
        start = time.perf_counter()
        for i in range(size):
            secrets.set(f"secret-{i:06d}", "value")
        seeded = time.perf_counter() - start
        client = SecretClient(kv.vault_url, kv.credential)
        client.get_secret("secret-000000")  # challenge and first request
        kv.requests.clear()
        start = time.perf_counter()
        count = sum(1 for _ in client.list_properties_of_secrets())
        listed = time.perf_counter() - start
        if count != size:
            raise SystemExit(f"listed {count} secrets, expected {size}")
        kv.requests.clear()
        times = []
        gc.collect()
        gc.disable()
        try:
            for i in range(gets):
                start = time.perf_counter()
                client.get_secret(f"secret-{(i * 7919) % size:06d}")
                times.append(time.perf_counter() - start)
        finally:
            gc.enable()
        kv.requests.clear()
        client.close()
    return seeded, listed, statistics.median(times)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[1_000, 10_000, 50_000], help="vault sizes")
    parser.add_argument("--quick", action="store_true", help="sizes 1,000 and 10,000 only")
    parser.add_argument("--gets", type=int, default=300, help="timed get_secret calls per size (default 300)")
    args = parser.parse_args(argv)
    sizes = [1_000, 10_000] if args.quick else args.sizes
    print(
        f"secrets in the vault: seed, list all, get_secret "
        f"(Python {platform.python_version()}, {platform.system()} {platform.machine()}, {os.cpu_count()} CPUs)"
    )
    print(f"  {'secrets':>8}  {'seed':>8}  {'list all':>9}  {'per page':>9}  {'get_secret':>11}  {'get ratio':>9}")
    began = time.perf_counter()
    first_get = None
    for size in sizes:
        seeded, listed, get = measure(size, args.gets)
        first_get = first_get or get
        pages = -(-size // 25)
        print(
            f"  {size:>8}  {seeded:7.2f}s  {listed:8.2f}s  {listed / pages * 1e3:7.2f}ms"
            f"  {get * 1e6:8.0f} us  {get / first_get:8.2f}x",
            flush=True,
        )
    print(f"  total run time {time.perf_counter() - began:.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
