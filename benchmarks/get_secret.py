"""What does one ``SecretClient.get_secret`` round trip cost against kv-emulator, next to the alternatives?

Times, in one run, the same read four ways (and one more way after many fixtures):

- emulator: ``kv_emulator.Emulator`` (what the ``keyvault`` fixture starts) answers through its pipeline,
            reached through the fast door at azure-core's ``RequestsTransport``;
- canned:   a ``responses.RequestsMock`` answers the same URL with a fixed SecretBundle (after the one 401
            challenge the SDK needs), so only the SDK, ``requests`` and ``responses`` run;
- moto:     moto's in-process Secrets Manager answering boto3's ``get_secret_value`` (what a moto user
            pays for the same read; needs the ``bench`` extra, skipped without it);
- sdk:      the SDK pipeline alone: a transport that hands back a fixed SecretBundle from memory, no HTTP
            stack at all (the floor any in-process answer sits on).

Each is warmed up, then makes ``--iterations`` timed calls split into ``--repeats`` repeats; the setups take
turns every 100 calls so a slow spell of a shared machine lands on all alike. The median repeat is reported,
with ratios. ``--after-fixtures N`` then compares two fresh worker processes taking turns the same way: one
that first started and stopped N emulators (each used once, as N tests would) and one that did not, to show
cost left behind by earlier fixtures (garbage, patches, caches that grow).

    python benchmarks/get_secret.py [--iterations 2000] [--repeats 5] [--after-fixtures 1000]
"""

from __future__ import annotations

import argparse
import contextlib
import gc
import json
import os
import platform
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import requests
import responses
from azure.core.credentials import AccessToken
from azure.core.pipeline.transport import HttpTransport
from azure.core.rest._requests_basic import RestRequestsTransportResponse
from azure.keyvault.secrets import SecretClient

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import kv_emulator

CANNED_VAULT = "https://bench.vault.azure.net"
TENANT = "00000000-0000-0000-0000-0000000000be"
SECRET_NAME = "bench"
SECRET_VALUE = "value"
WARMUP = 50
CHUNK = 100  # calls per turn when the setups alternate

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

Call = Callable[[], str | None]
Setup = Callable[[], contextlib.AbstractContextManager[Call]]


class FixedTokenCredential:
    """A ``TokenCredential`` that always hands out the same token."""

    def get_token(self, *scopes: str, **kwargs: Any) -> AccessToken:
        return AccessToken("bench-token", int(time.time()) + 3600)


class InMemoryTransport(HttpTransport):
    """The SDK pipeline's floor: the challenge, then an answer from memory (the fixed bundle, or whatever
    ``answer`` returns for the request's URL), with no HTTP stack at all."""

    _body = json.dumps(_BUNDLE).encode()

    def __init__(self, answer: Callable[[str], bytes] | None = None) -> None:
        self._answer = answer or (lambda url: self._body)

    def send(self, request: Any, **kwargs: Any) -> Any:
        response = requests.Response()
        if "Authorization" in request.headers:
            response.status_code, response._content = 200, self._answer(request.url)
            response.headers["Content-Type"] = "application/json; charset=utf-8"
        else:
            response.status_code, response._content = 401, b""
            response.headers.update(_CHALLENGE)
        response._content_consumed = True
        wrapped = RestRequestsTransportResponse(request=request, internal_response=response)
        wrapped.read()
        return wrapped

    def open(self) -> None:
        pass

    def close(self) -> None:
        pass

    def __exit__(self, *args: Any) -> None:
        pass


# -- the setups: each yields "activate", a context manager giving a call while its interception is on -----


@contextlib.contextmanager
def emulator_setup() -> Iterator[Setup]:
    emulator = kv_emulator.Emulator()
    emulator.vault().secrets.set(SECRET_NAME, SECRET_VALUE)
    client = SecretClient(emulator.vault_url, emulator.credential)

    @contextlib.contextmanager
    def active() -> Iterator[Call]:
        emulator.start()
        try:
            yield lambda: client.get_secret(SECRET_NAME).value
        finally:
            emulator.stop()
            emulator.requests.clear()  # keep the journal from growing across repeats

    try:
        yield active
    finally:
        client.close()


@contextlib.contextmanager
def canned_setup() -> Iterator[Setup]:
    mock = responses.RequestsMock(assert_all_requests_are_fired=False)
    url = f"{CANNED_VAULT}/secrets/{SECRET_NAME}/"
    # responses answers with the first match and drops it while another one remains: the SDK's bodiless
    # probe gets the challenge once, every later (authorized) call gets the bundle.
    mock.add(responses.GET, url, json={"error": {"code": "Unauthorized"}}, status=401, headers=_CHALLENGE)
    mock.add(responses.GET, url, json=_BUNDLE, status=200)
    client = SecretClient(CANNED_VAULT, FixedTokenCredential())

    @contextlib.contextmanager
    def active() -> Iterator[Call]:
        mock.start()
        try:
            yield lambda: client.get_secret(SECRET_NAME).value
        finally:
            mock.stop(allow_assert=False)
            mock.calls.reset()  # responses records every call; keep the record from growing across repeats

    try:
        yield active
    finally:
        client.close()


@contextlib.contextmanager
def sdk_setup() -> Iterator[Setup]:
    client = SecretClient(CANNED_VAULT, FixedTokenCredential(), transport=InMemoryTransport())

    @contextlib.contextmanager
    def active() -> Iterator[Call]:
        yield lambda: client.get_secret(SECRET_NAME).value

    yield active


@contextlib.contextmanager
def moto_setup() -> Iterator[Setup]:
    import boto3
    from moto import mock_aws

    os.environ.setdefault("AWS_ACCESS_KEY_ID", "testing")
    os.environ.setdefault("AWS_SECRET_ACCESS_KEY", "testing")
    with mock_aws():
        client = boto3.client("secretsmanager", region_name="us-east-1")
        client.create_secret(Name=SECRET_NAME, SecretString=SECRET_VALUE)

        @contextlib.contextmanager
        def active() -> Iterator[Call]:
            yield lambda: client.get_secret_value(SecretId=SECRET_NAME)["SecretString"]

        yield active


def _moto_available() -> bool:
    try:
        import boto3  # noqa: F401
        import moto  # noqa: F401
    except ImportError:
        return False
    return True


# -- timing -----------------------------------------------------------------------------------------


def time_calls(call: Call, iterations: int) -> float:
    """Seconds for ``iterations`` calls (garbage collection off, as timeit does)."""
    gc.collect()
    gc_was_enabled = gc.isenabled()
    gc.disable()
    try:
        start = time.perf_counter()
        for _ in range(iterations):
            call()
        return time.perf_counter() - start
    finally:
        if gc_was_enabled:
            gc.enable()


def run(setups: dict[str, Setup], iterations: int, repeats: int, chunk: int = CHUNK) -> dict[str, list[float]]:
    """Seconds per call of each setup, one number per turn of ``chunk`` calls (the setups take turns)."""
    turns: dict[str, list[float]] = {name: [] for name in setups}
    for name, active in setups.items():
        with active() as call:
            for _ in range(WARMUP):
                if (value := call()) != SECRET_VALUE:
                    raise SystemExit(f"{name}: read {value!r}, expected {SECRET_VALUE!r}")
    for _ in range(max(1, iterations // chunk)):
        for name, active in setups.items():
            with active() as call:
                turns[name].append(time_calls(call, chunk) / chunk)
    return turns


def per_repeat(turns: list[float], repeats: int) -> list[float]:
    """The turns grouped into ``repeats`` consecutive repeats, each its mean seconds per call."""
    size = max(1, len(turns) // repeats)
    return [statistics.fmean(turns[i : i + size]) for i in range(0, size * repeats, size) if turns[i : i + size]]


def paired_ratio(mine: list[float], other: list[float]) -> float:
    """The median over turns of one setup's time to the other's in the adjacent turn: a slow spell of a shared
    machine lands on both of a pair, so it cancels out of the ratio."""
    return statistics.median(a / b for a, b in zip(mine, other, strict=True))


def use_fixtures(count: int) -> None:
    """What ``count`` tests with the ``keyvault`` fixture leave behind: each starts an emulator and reads once."""
    for index in range(count):
        with kv_emulator.emulate() as emulator:
            emulator.vault().secrets.set("s", str(index))
            client = SecretClient(emulator.vault_url, emulator.credential)
            client.get_secret("s")
            client.close()


def worker(fixtures: int) -> None:
    """A timing worker: ``fixtures`` emulators first, then one emulator timed on request (``--worker``).

    Reads a call count per line from stdin and answers the seconds those calls took (wall and CPU)."""
    use_fixtures(fixtures)
    with emulator_setup() as setup, setup() as call:
        for _ in range(WARMUP):
            call()
        print("ready", flush=True)
        for line in sys.stdin:
            count = int(line)
            cpu = time.process_time()
            wall = time_calls(call, count)
            print(wall, time.process_time() - cpu, flush=True)


def after_fixtures(fixtures: int, iterations: int) -> tuple[float, float]:
    """(wall, CPU) per-call ratio of a process that ran ``fixtures`` emulators to a fresh one, in turns."""
    command = [sys.executable, __file__, "--worker"]
    used = subprocess.Popen([*command, str(fixtures)], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    fresh = subprocess.Popen([*command, "0"], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    workers = {"fresh": fresh, "used": used}
    try:
        for process in workers.values():
            assert process.stdout is not None
            if process.stdout.readline().strip() != "ready":
                raise SystemExit("a timing worker failed to start")
        walls: dict[str, list[float]] = {name: [] for name in workers}
        cpus: dict[str, list[float]] = {name: [] for name in workers}
        for _ in range(max(1, iterations // CHUNK)):
            for name, process in workers.items():
                assert process.stdin is not None and process.stdout is not None
                process.stdin.write(f"{CHUNK}\n")
                process.stdin.flush()
                wall, cpu = map(float, process.stdout.readline().split())
                walls[name].append(wall)
                cpus[name].append(cpu)
    finally:
        for process in workers.values():
            if process.stdin is not None:
                process.stdin.close()
            process.wait(timeout=30)
    ratio = {kind: paired_ratio(series["used"], series["fresh"]) for kind, series in (("wall", walls), ("cpu", cpus))}
    return ratio["wall"], ratio["cpu"]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--iterations", type=int, default=2000, help="timed calls per setup (default: 2000)")
    parser.add_argument("--repeats", type=int, default=5, help="repeats the timed calls are split into (default: 5)")
    parser.add_argument(
        "--after-fixtures", type=int, default=1000, help="emulators to start and stop before the last timing (0: skip)"
    )
    parser.add_argument("--worker", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.worker is not None:
        worker(args.worker)
        return 0
    if args.repeats < 1 or args.iterations < args.repeats:
        parser.error("--repeats must be at least 1 and --iterations at least --repeats")

    began = time.perf_counter()
    with contextlib.ExitStack() as stack:
        setups: dict[str, Setup] = {
            "emulator": stack.enter_context(emulator_setup()),
            "canned": stack.enter_context(canned_setup()),
            "sdk": stack.enter_context(sdk_setup()),
        }
        if _moto_available():
            setups["moto"] = stack.enter_context(moto_setup())
        results = run(setups, args.iterations, args.repeats)

    print(
        f"get_secret: {args.repeats} repeats x {args.iterations // args.repeats} calls per setup "
        f"(Python {platform.python_version()}, {platform.system()} {platform.machine()}, {os.cpu_count()} CPUs)"
    )
    labels = {
        "emulator": "kv-emulator",
        "canned": "canned responses reply",
        "moto": "moto get_secret_value",
        "sdk": "SDK pipeline alone",
    }
    medians: dict[str, float] = {}
    for name, turns in results.items():
        micros = [seconds * 1e6 for seconds in per_repeat(turns, args.repeats)]
        medians[name] = statistics.median(micros)
        print(f"  {labels[name]:<24} {medians[name]:8.1f} us/call median   (best {min(micros):.1f})")
    for other in ("canned", "moto", "sdk"):
        if other in medians:
            paired = paired_ratio(results["emulator"], results[other])
            print(
                f"  ratio emulator/{other:<8} {paired:8.2f}x  (median of {len(results[other])} paired turns; "
                f"{medians['emulator'] / medians[other]:.2f}x of the medians)"
            )
    if "moto" not in medians:
        print("  moto: not installed (pip install -e '.[bench]')")

    if args.after_fixtures:
        wall, cpu = after_fixtures(args.after_fixtures, args.iterations)
        print(
            f"  after {args.after_fixtures} fixtures     {wall:8.2f}x a fresh process (wall time, "
            f"{cpu:.2f}x in CPU time; two processes taking turns)"
        )
    print(f"  total run time           {time.perf_counter() - began:8.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
