"""Server mode writes: what one ``set_secret`` costs as the vault grows, persistent and ``--ephemeral``.

A persistent server stores each change before its 2xx (docs/state.md): one row per object, so a write's cost
should not grow with the vault. For each vault size, a server is started (``kv-emulator serve``, its own
process) with a seed file of that many secrets, then ``--writes`` new secrets are PUT one after another over
one keep-alive HTTPS connection (raw ``requests``, a fixed token: client cost is the same for every setup).
Reported: the median and p90 milliseconds per write, per size and mode, the median of ``--rounds`` rounds in
which the setups take turns; and the two ratios the issue asks for (issue 20: at 5,000 secrets <= 1.2x the
cost at 0; persistent <= 1.5x ephemeral).

    python benchmarks/server_writes.py [--sizes 0 5000] [--writes 200] [--rounds 3]
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
API = {"api-version": "7.5"}


def _seed(path: Path, size: int) -> None:
    secrets = {f"filler-{i:05d}": {"value": f"value {i}"} for i in range(size)}
    path.write_text(json.dumps({"version": 1, "vaults": {"kv-emulator": {"secrets": secrets}}}))


def _wait_for(path: Path, process: subprocess.Popen[Any]) -> None:
    deadline = time.monotonic() + 120
    while not path.exists():
        if process.poll() is not None or time.monotonic() > deadline:
            raise SystemExit(f"server did not start ({path})")
        time.sleep(0.05)


def measure(size: int, persistent: bool, writes: int) -> list[float]:
    """Milliseconds per write of ``writes`` new secrets into a vault already holding ``size``."""
    import requests

    with tempfile.TemporaryDirectory() as folder:
        data_dir = Path(folder)
        seed = data_dir / "seed.json"
        _seed(seed, size)
        command = [sys.executable, "-m", "kv_emulator", "serve", "--data-dir", folder, "--quiet"]
        command += ["--port", "0", "--proxy-port", "0", "--seed", str(seed)]
        if not persistent:
            command.append("--ephemeral")
        server = subprocess.Popen(command, cwd=ROOT, stdout=subprocess.DEVNULL)
        try:
            _wait_for(data_dir / "server.json", server)
            runtime = json.loads((data_dir / "server.json").read_text())
            session = requests.Session()
            ca = str(data_dir / "ca.pem")  # per request: a session's verify loses to REQUESTS_CA_BUNDLE
            session.headers["Authorization"] = "Bearer benchmark"
            url = f"https://localhost:{runtime['port']}/secrets"
            for i in range(10):  # warm-up: the connection, the first-request paths
                session.put(f"{url}/warm-{i}", params=API, json={"value": "w"}, verify=ca).raise_for_status()
            times = []
            for i in range(writes):
                started = time.perf_counter()
                answer = session.put(f"{url}/bench-{i}", params=API, json={"value": "v"}, verify=ca)
                times.append((time.perf_counter() - started) * 1000)
                answer.raise_for_status()
            return times
        finally:
            server.terminate()
            server.wait(timeout=60)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", type=int, nargs="+", default=[0, 5000])
    parser.add_argument("--writes", type=int, default=200)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    setups = [(size, persistent) for size in args.sizes for persistent in (True, False)]
    medians: dict[tuple[int, bool], list[float]] = {setup: [] for setup in setups}
    p90s: dict[tuple[int, bool], list[float]] = {setup: [] for setup in setups}
    for _ in range(args.rounds):
        for setup in setups:
            times = measure(setup[0], setup[1], args.writes)
            medians[setup].append(statistics.median(times))
            p90s[setup].append(sorted(times)[int(len(times) * 0.9) - 1 if len(times) > 1 else 0])
    print(f"set_secret through the server, {args.writes} writes per setup, median of {args.rounds} round(s)")
    result = {setup: statistics.median(values) for setup, values in medians.items()}
    for size, persistent in setups:
        mode = "persistent" if persistent else "ephemeral"
        p90 = statistics.median(p90s[(size, persistent)])
        print(f"  {size:>6} secrets  {mode:<10}  median {result[(size, persistent)]:6.2f} ms  p90 {p90:6.2f} ms")
    smallest, largest = min(args.sizes), max(args.sizes)
    growth = result[(largest, True)] / result[(smallest, True)]
    print(f"persistent, {largest} vs {smallest} secrets: {growth:.2f}x (goal <= 1.2x)")
    for size in args.sizes:
        ratio = result[(size, True)] / result[(size, False)]
        print(f"persistent vs ephemeral at {size} secrets: {ratio:.2f}x (goal <= 1.5x)")


if __name__ == "__main__":
    main()
