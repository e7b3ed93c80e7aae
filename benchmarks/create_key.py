"""What does ``KeyClient.create_rsa_key`` cost against the emulator, with and without the key pool?

RSA generation dominates a key-heavy test suite. The emulator makes RSA keys ahead of time in a worker
process (``kv_emulator.objects.keypool``); this script measures ``create_rsa_key`` at 2048, 3072 and 4096
bits with the pool off (``KV_EMULATOR_KEY_POOL=0``: generated inline, as a naive emulator would) and on, and
``get_secret`` beside them for scale. Between creates it does ``--gap-ms`` of other work, as a test
would; ``--gap-ms 0`` shows a burst, where the pool can only help while the worker keeps up. The first
create of a size is shown apart: it is what starts the pool making that size.

    python benchmarks/create_key.py [--keys 12] [--gap-ms 50] [--sizes 2048 3072 4096]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))


def _busy(seconds: float) -> None:
    """Stand-in for the rest of a test: CPU work in this process (not a sleep, which would flatter the pool)."""
    end = time.perf_counter() + seconds
    while time.perf_counter() < end:
        pass


def measure(keys: int, gap: float, sizes: list[int]) -> None:
    from azure.keyvault.keys import KeyClient
    from azure.keyvault.secrets import SecretClient

    import kv_emulator

    with kv_emulator.emulate() as kv:
        kv.vault().secrets.set("bench", "value")
        secrets = SecretClient(kv.vault_url, kv.credential)
        client = KeyClient(kv.vault_url, kv.credential)
        client.create_ec_key("warm-up")  # challenge, imports, first request
        secrets.get_secret("bench")
        start = time.perf_counter()
        for _ in range(200):
            secrets.get_secret("bench")
        print(f"  get_secret            {(time.perf_counter() - start) / 200 * 1e3:8.2f} ms/call")
        pool = kv.key_pool
        for bits in sizes:
            served = pool.served if pool is not None else 0
            times = []
            for i in range(keys):
                start = time.perf_counter()
                client.create_rsa_key(f"rsa-{bits}-{i}", size=bits)
                times.append(time.perf_counter() - start)
                _busy(gap)
            first, rest = times[0], times[1:]
            print(
                f"  create_rsa_key {bits}   {statistics.median(rest) * 1e3:8.2f} ms median"
                f"  (first {first * 1e3:.1f} ms, worst {max(rest) * 1e3:.1f} ms, {keys} keys"
                + (f", {pool.served - served} from the pool)" if pool is not None else ")")
            )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--keys", type=int, default=12, help="keys created per size (default 12)")
    parser.add_argument("--gap-ms", type=float, default=50.0, help="other work between creates (default 50)")
    parser.add_argument("--sizes", type=int, nargs="+", default=[2048, 3072, 4096], help="RSA sizes (bits)")
    parser.add_argument("--pool", choices=["off", "on", "both"], default="both", help="pool off, on, or both")
    parser.add_argument("--child", choices=["on", "off"], help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        measure(args.keys, args.gap_ms / 1000, args.sizes)
        return
    print(f"create_rsa_key through the emulator, {args.gap_ms:g} ms of other work between creates")
    for pool in ("off", "on") if args.pool == "both" else (args.pool,):
        print(f"key pool {pool}:", flush=True)
        env = {**os.environ, "KV_EMULATOR_KEY_POOL": "1" if pool == "on" else "0"}
        command = [sys.executable, __file__, "--child", pool, "--keys", str(args.keys), "--gap-ms", str(args.gap_ms)]
        subprocess.run([*command, "--sizes", *map(str, args.sizes)], env=env, check=True)


if __name__ == "__main__":
    main()
