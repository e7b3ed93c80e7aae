"""Does a request cost more when the vault holds more? Listing every secret, and ``get_secret``, by vault size.

One emulator holds one vault per size (default 1,000 / 10,000 / 50,000 secrets, seeded through direct
access), so every size is measured in the same process, side by side:

- ``list all``: every secret, read to the end (wall time, and the CPU time of this process, which a busy
  machine inflates less). Through the SDK, ``SecretClient.list_properties_of_secrets()``
  follows ``nextLink`` (25 secrets a page: 50,000 secrets are 2,000 requests); over the wire, raw GETs to the
  emulator's WSGI app (werkzeug's test client) follow the same links. The wire column is the emulator's own
  share. The floor column is the SDK alone: the same client code reading the very pages the wire walk got,
  replayed from memory by a transport with no HTTP stack and no emulator (what any in-process answer costs
  at least); the rest of an SDK page is mostly the SDK turning 25 items into models.
- ``get``: ``get_secret`` of secrets spread over the vault, through the SDK and over the wire; the sizes take
  turns in ``--rounds`` rounds of ``--gets`` calls (garbage collection off while timing, as ``timeit`` does),
  and the median round is shown, with the median over rounds of its ratio to the smallest vault's get in
  the same round (a slow spell of a shared machine lands on both of a pair).

Listing should grow linearly with the vault (each page continues from its skiptoken: the cost per page stays
flat), and a get should not grow at all (time-driven work runs from a schedule, not a scan).

    python benchmarks/vault_size.py            # 1k / 10k / 50k, about a minute on a quiet 2-core machine
    python benchmarks/vault_size.py --quick    # 1k / 10k, a few seconds
    python benchmarks/vault_size.py --sizes 1000 100000
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import platform
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from urllib.parse import parse_qs, urlsplit

from azure.keyvault.secrets import SecretClient
from get_secret import FixedTokenCredential, InMemoryTransport
from werkzeug.test import Client

import kv_emulator

HEADERS = {"Authorization": "Bearer bench"}  # the emulator checks tokens only with strict_auth


def _name(i: int) -> str:
    return f"secret-{i:06d}"


def _timed(call: Callable[[str], object], size: int, count: int, offset: int) -> float:
    """Median seconds of ``count`` calls on names spread over the vault."""
    times = []
    gc.collect()
    gc.disable()
    try:
        for i in range(offset, offset + count):
            start = time.perf_counter()
            call(_name((i * 7919) % size))
            times.append(time.perf_counter() - start)
    finally:
        gc.enable()
    return statistics.median(times)


def _skiptoken(url: str) -> str | None:
    return parse_qs(urlsplit(url).query).get("$skiptoken", [None])[0]


def _replay(pages: dict[str | None, bytes]) -> Callable[[str], bytes]:
    """Answer a list request with the page recorded for its skiptoken."""
    return lambda url: pages[_skiptoken(url)]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[1_000, 10_000, 50_000], help="vault sizes")
    parser.add_argument("--quick", action="store_true", help="sizes 1,000 and 10,000 only")
    parser.add_argument("--gets", type=int, default=100, help="get_secret calls per size and round (default 100)")
    parser.add_argument("--rounds", type=int, default=5, help="rounds the sizes take turns in (default 5)")
    args = parser.parse_args(argv)
    sizes = [1_000, 10_000] if args.quick else sorted(args.sizes)
    began = time.perf_counter()
    print(
        f"secrets in the vault: list all, get_secret "
        f"(Python {platform.python_version()}, {platform.system()} {platform.machine()}, {os.cpu_count()} CPUs)"
    )
    with kv_emulator.emulate() as kv:
        urls = {size: f"https://size-{size}.vault.azure.net" for size in sizes}
        seeded = {}
        for size in sizes:
            start = time.perf_counter()
            secrets = kv.vault(urls[size]).secrets
            for i in range(size):
                secrets.set(_name(i), "value")
            seeded[size] = time.perf_counter() - start
        clients = {size: SecretClient(urls[size], kv.credential) for size in sizes}
        wire = Client(kv.app)

        def wire_get(size: int) -> Callable[[str], object]:
            def get(name: str) -> None:
                answer = wire.get(f"/secrets/{name}?api-version=7.5", base_url=urls[size], headers=HEADERS)
                assert answer.status_code == 200, answer.status_code

            return get

        listed: dict[int, tuple[float, float, float, float]] = {}
        for size in sizes:
            clients[size].get_secret(_name(0))  # the challenge and the first request
            start, cpu = time.perf_counter(), time.process_time()
            count = sum(1 for _ in clients[size].list_properties_of_secrets())
            sdk, sdk_cpu = time.perf_counter() - start, time.process_time() - cpu
            start, cpu = time.perf_counter(), time.process_time()
            path: str | None = "/secrets?api-version=7.5"
            pages: dict[str | None, bytes] = {}
            while path:
                data = wire.get(path, base_url=urls[size], headers=HEADERS).data
                pages[_skiptoken(path)] = data
                page = json.loads(data)
                count += len(page["value"])
                path = page["nextLink"][len(urls[size]) :] if page.get("nextLink") else None
            wire_list, wire_cpu = time.perf_counter() - start, time.process_time() - cpu
            floor = SecretClient(urls[size], FixedTokenCredential(), transport=InMemoryTransport(_replay(pages)))
            start = time.perf_counter()
            count += sum(1 for _ in floor.list_properties_of_secrets())
            listed[size] = (sdk, sdk_cpu, time.perf_counter() - start, wire_list, wire_cpu)
            if count != 3 * size:
                raise SystemExit(f"listed {count} secrets in three passes, expected {3 * size}")
            kv.requests.clear()

        gets: dict[int, tuple[list[float], list[float]]] = {size: ([], []) for size in sizes}
        for round_ in range(args.rounds):
            for size in sizes:
                gets[size][0].append(_timed(clients[size].get_secret, size, args.gets, round_ * args.gets))
                gets[size][1].append(_timed(wire_get(size), size, args.gets, round_ * args.gets))
                kv.requests.clear()
        for client in clients.values():
            client.close()

    print(f"  {'':>8}  {'':>7}  {' list all (wall, CPU) ':-^63}  {' get_secret ':-^41}")
    columns = ("SDK", "CPU", "per page", "floor", "wire", "CPU", "SDK", "ratio", "wire", "ratio")
    print(f"  {'secrets':>8}  {'seed':>7}  " + "  ".join(f"{c:>9}" for c in columns))
    smallest = sizes[0]

    def paired(size: int, kind: int) -> float:
        """Median over rounds of this size's get to the smallest vault's get in the same round."""
        return statistics.median(a / b for a, b in zip(gets[size][kind], gets[smallest][kind], strict=True))

    for size in sizes:
        pages = -(-size // 25)
        sdk_list, sdk_cpu, floor_list, wire_list, wire_cpu = listed[size]
        sdk_get, wire_get_ = (statistics.median(g) for g in gets[size])
        print(
            f"  {size:>8}  {seeded[size]:6.2f}s"
            f"  {sdk_list:8.2f}s  {sdk_cpu:8.2f}s  {sdk_list / pages * 1e3:7.2f}ms"
            f"  {floor_list:8.2f}s  {wire_list:8.2f}s  {wire_cpu:8.2f}s"
            f"  {sdk_get * 1e6:7.0f}us  {paired(size, 0):8.2f}x  {wire_get_ * 1e6:7.0f}us"
            f"  {paired(size, 1):8.2f}x"
        )
    print(f"  total run time {time.perf_counter() - began:.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
