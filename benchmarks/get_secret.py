"""How much does kv-emulator add to one ``SecretClient.get_secret`` round trip?

Times the unmodified SDK call two ways in one run:

- emulator: a ``kv_emulator.Emulator`` (what ``emulate()`` starts) answers ``GET /secrets/bench/`` through
            its WSGI app;
- canned:   a ``responses.RequestsMock`` answers the same URL with a fixed SecretBundle (after the one
            401 challenge the SDK needs to learn the tenant), so only the SDK and ``responses`` run.

The difference is the emulator's own cost per call (routing, auth, api-version, model, JSON, journal).
Both are warmed up, then each makes ``--iterations`` timed calls, split into ``--repeats`` equal repeats;
the two setups take turns every 100 calls so that noise from a shared machine hits both alike. The median
repeat is reported (and the best, which is steadier on a noisy machine).

    python benchmarks/get_secret.py [--iterations 2000] [--repeats 5]
"""

from __future__ import annotations

import argparse
import contextlib
import gc
import os
import platform
import statistics
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import responses
from azure.core.credentials import AccessToken
from azure.keyvault.secrets import SecretClient

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import kv_emulator

CANNED_VAULT = "https://bench.vault.azure.net"
TENANT = "00000000-0000-0000-0000-0000000000be"
SECRET_NAME = "bench"
SECRET_VALUE = "value"
WARMUP = 50
CHUNK = 100  # calls per turn when the two setups alternate

_CHALLENGE = {
    "WWW-Authenticate": (
        f'Bearer authorization="https://login.microsoftonline.com/{TENANT}", resource="https://vault.azure.net"'
    )
}
_BUNDLE = {
    "value": SECRET_VALUE,
    "id": f"{CANNED_VAULT}/secrets/{SECRET_NAME}/0123456789abcdef0123456789abcdef",
    "attributes": {
        "enabled": True,
        "created": 1767225600,
        "updated": 1767225600,
        "recoverableDays": 90,
        "recoveryLevel": "Recoverable+Purgeable",
    },
    "tags": {},
}


class FixedTokenCredential:
    """A ``TokenCredential`` that always hands out the same token."""

    def get_token(self, *scopes: str, **kwargs: Any) -> AccessToken:
        return AccessToken("bench-token", int(time.time()) + 3600)


# -- the two setups: each yields a client while its interception is active -----------------------


@contextlib.contextmanager
def emulator_session() -> Iterator[Callable[[], contextlib.AbstractContextManager[SecretClient]]]:
    emulator = kv_emulator.Emulator()
    emulator.vault().secrets.set(SECRET_NAME, SECRET_VALUE)
    client = SecretClient(emulator.vault_url, emulator.credential)

    @contextlib.contextmanager
    def active() -> Iterator[SecretClient]:
        emulator.start()
        try:
            yield client
        finally:
            emulator.stop()
            emulator.requests.clear()  # keep the journal from growing across repeats

    try:
        yield active
    finally:
        client.close()


@contextlib.contextmanager
def canned_session() -> Iterator[Callable[[], contextlib.AbstractContextManager[SecretClient]]]:
    mock = responses.RequestsMock(assert_all_requests_are_fired=False)
    url = f"{CANNED_VAULT}/secrets/{SECRET_NAME}/"
    # responses answers with the first match and drops it while another one remains: the SDK's bodiless
    # probe gets the challenge once, every later (authorized) call gets the bundle.
    mock.add(responses.GET, url, json={"error": {"code": "Unauthorized"}}, status=401, headers=_CHALLENGE)
    mock.add(responses.GET, url, json=_BUNDLE, status=200)
    client = SecretClient(CANNED_VAULT, FixedTokenCredential())

    @contextlib.contextmanager
    def active() -> Iterator[SecretClient]:
        mock.start()
        try:
            yield client
        finally:
            mock.stop(allow_assert=False)
            mock.calls.reset()  # responses records every call; keep the record from growing across repeats

    try:
        yield active
    finally:
        client.close()


# -- timing -----------------------------------------------------------------------------------------


def time_calls(client: SecretClient, iterations: int) -> float:
    """Seconds for ``iterations`` ``get_secret`` calls (garbage collection off, as timeit does)."""
    get = client.get_secret
    gc.collect()
    gc_was_enabled = gc.isenabled()
    gc.disable()
    try:
        start = time.perf_counter()
        for _ in range(iterations):
            get(SECRET_NAME)
        return time.perf_counter() - start
    finally:
        if gc_was_enabled:
            gc.enable()


def run(iterations: int, repeats: int, chunk: int = CHUNK) -> dict[str, list[float]]:
    """Seconds per call of each setup, one number per repeat of ``iterations // repeats`` calls.

    Within a repeat the two setups take turns every ``chunk`` calls, so a slow spell of a shared machine
    lands on both alike instead of on whichever happened to run then.
    """
    results: dict[str, list[float]] = {"emulator": [], "canned": []}
    with emulator_session() as emulator, canned_session() as canned:
        sessions = {"emulator": emulator, "canned": canned}
        for name, active in sessions.items():
            with active() as client:
                for _ in range(WARMUP):
                    secret = client.get_secret(SECRET_NAME)
                    if secret.value != SECRET_VALUE:
                        raise SystemExit(f"{name}: get_secret returned {secret.value!r}, expected {SECRET_VALUE!r}")
        per_repeat = max(1, iterations // repeats)
        for _ in range(repeats):
            elapsed = dict.fromkeys(sessions, 0.0)
            done = 0
            while done < per_repeat:
                batch = min(chunk, per_repeat - done)
                for name, active in sessions.items():
                    with active() as client:
                        elapsed[name] += time_calls(client, batch)
                done += batch
            for name, seconds in elapsed.items():
                results[name].append(seconds / per_repeat)
    return results


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--iterations", type=int, default=2000, help="timed calls per setup (default: 2000)")
    parser.add_argument(
        "--repeats", type=int, default=5, help="equal repeats the timed calls are split into (default: 5)"
    )
    args = parser.parse_args(argv)
    if args.repeats < 1 or args.iterations < args.repeats:
        parser.error("--repeats must be at least 1 and --iterations at least --repeats")

    began = time.perf_counter()
    results = run(args.iterations, args.repeats)
    total = time.perf_counter() - began

    print(
        f"SecretClient.get_secret: {args.repeats} repeats x {args.iterations // args.repeats} calls per setup "
        f"(Python {platform.python_version()}, {platform.system()} {platform.machine()}, {os.cpu_count()} CPUs)"
    )
    medians: dict[str, float] = {}
    best: dict[str, float] = {}
    for name, label in (("canned", "canned responses reply"), ("emulator", "kv-emulator")):
        per_call = [seconds * 1e6 for seconds in results[name]]
        medians[name], best[name] = statistics.median(per_call), min(per_call)
        print(f"  {label:<24} {medians[name]:8.1f} us/call median   (best {best[name]:.1f}, worst {max(per_call):.1f})")
    print(
        f"  ratio emulator/canned    {medians['emulator'] / medians['canned']:8.2f}x        "
        f"(best/best {best['emulator'] / best['canned']:.2f}x)"
    )
    print(
        f"  emulator's added cost    {medians['emulator'] - medians['canned']:8.1f} us/call   "
        f"(best/best {best['emulator'] - best['canned']:.1f})"
    )
    print(f"  total run time           {total:8.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
