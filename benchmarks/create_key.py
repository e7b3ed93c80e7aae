"""What does ``KeyClient.create_rsa_key`` cost against the emulator: without the key pool, on a machine's first
run, and on the next run?

RSA generation dominates a key-heavy test suite. The emulator makes RSA keys ahead of time in a worker
process (``kv_emulator.objects.keypool``), and in its spare time keeps keys of the sizes suites asked for in
a reserve on disk for the next run (``kv_emulator.objects.keyreserve``). This script measures
``create_rsa_key`` at 2048, 3072 and 4096 bits in fresh processes:

- ``off``:  ``KV_EMULATOR_KEY_POOL=0``: every key generated inline, as a naive emulator would;
- ``cold``: the pool on and an empty reserve (a new temporary folder): a machine's first run. After its
  creates, the process stays until its worker has filled the reserve, as the rest of a suite would give it
  time to (the time that took is shown);
- ``warm``: the pool on, with the reserve the cold run left: every later run on that machine.

Between creates it does ``--gap-ms`` of CPU work, as a test would; ``--gap-ms 0`` is a burst. The first create
of a size is shown apart, with how many keys came from the pool and from the reserve.

    python benchmarks/create_key.py [--keys 12] [--gap-ms 50] [--sizes 2048 3072 4096] [--runs off cold warm]
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

FILL_TIMEOUT = 600.0


def _busy(seconds: float) -> None:
    """Stand-in for the rest of a test: CPU work in this process (not a sleep, which would flatter the pool)."""
    end = time.perf_counter() + seconds
    while time.perf_counter() < end:
        pass


def measure(keys: int, gap: float, sizes: list[int], fill: bool) -> None:
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
            served, reserved = (pool.served, pool.from_reserve) if pool is not None else (0, 0)
            times = []
            for i in range(keys):
                start = time.perf_counter()
                client.create_rsa_key(f"rsa-{bits}-{i}", size=bits)
                times.append(time.perf_counter() - start)
                _busy(gap)
            first, rest = times[0], times[1:] or times
            source = ""
            if pool is not None:
                source = (
                    f", {pool.served - served} from the pool, {pool.from_reserve - reserved} of them from the reserve"
                )
            print(
                f"  create_rsa_key {bits}   {statistics.median(rest) * 1e3:8.2f} ms median"
                f"  (first {first * 1e3:.1f} ms, worst {max(rest) * 1e3:.1f} ms, {keys} keys{source})",
                flush=True,
            )
        if fill and pool is not None and pool.reserve is not None:
            start = time.perf_counter()
            kinds = [(bits, 65537) for bits in sizes]
            while any(pool.reserve.count(kind) < pool.reserve.limit for kind in kinds) or pool.busy:
                if time.perf_counter() - start > FILL_TIMEOUT:
                    print("  (the reserve was not full after 10 minutes)")
                    break
                time.sleep(0.2)
            counts = ", ".join(f"{pool.reserve.count(kind)} x {kind[0]}" for kind in kinds)
            print(f"  reserve filled in {time.perf_counter() - start:.1f} s after the creates ({counts} on disk)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--keys", type=int, default=12, help="keys created per size (default 12)")
    parser.add_argument("--gap-ms", type=float, default=50.0, help="other work between creates (default 50)")
    parser.add_argument("--sizes", type=int, nargs="+", default=[2048, 3072, 4096], help="RSA sizes (bits)")
    parser.add_argument(
        "--runs", nargs="+", choices=["off", "cold", "warm"], default=["off", "cold", "warm"], help="runs to make"
    )
    parser.add_argument("--child", choices=["off", "cold", "warm", "fill"], help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        keys = 1 if args.child == "fill" else args.keys
        measure(keys, args.gap_ms / 1000, args.sizes, fill=args.child in ("cold", "fill"))
        return
    print(f"create_rsa_key through the emulator, {args.gap_ms:g} ms of other work between creates")
    reserve = tempfile.mkdtemp(prefix="kv-emulator-bench-reserve-")
    try:
        runs = list(args.runs)
        if "warm" in runs and "cold" not in runs:
            runs.insert(runs.index("warm"), "fill")  # a warm run needs the reserve a first run leaves
        for run in runs:
            print(
                {
                    "off": "key pool off:",
                    "cold": "key pool on, first run (empty reserve):",
                    "warm": "key pool on, next run (the reserve the first run left):",
                    "fill": "filling the reserve (untimed):",
                }[run],
                flush=True,
            )
            env = {
                **os.environ,
                "KV_EMULATOR_KEY_POOL": "0" if run == "off" else "1",
                "KV_EMULATOR_KEY_RESERVE": reserve,
            }
            command = [sys.executable, __file__, "--child", run, "--keys", str(args.keys), "--gap-ms", str(args.gap_ms)]
            subprocess.run([*command, "--sizes", *map(str, args.sizes)], env=env, check=True)
    finally:
        shutil.rmtree(reserve, ignore_errors=True)


if __name__ == "__main__":
    main()
