"""Server mode throughput: reads (``get_secret``) and writes (``set_secret``, a PUT with a body) through the
proxy and directly, 1 and 8 clients.

Compared with a floor on the same machine: a minimal threaded HTTPS server (``http.server``, keep-alive,
TLS from the same kind of certificate) that answers the one 401 challenge and then a canned SecretBundle.
The floor is what any Python HTTPS server costs; the ratio says what the emulator's server adds on top
(routing, the vault pipeline, the journal, and for the proxy path the CONNECT and per-host certificate).

Each server runs in its own process; each client is its own process running the unmodified SDK (sync,
requests transport) with a fixed token, so client cost is the same for every target. Per setup: a warm-up,
then ``--calls`` timed reads and then ``--calls`` timed writes per client; reported are requests/s over all
clients (calls / slowest client's wall time), and p50 / p99 latency per call, each the median of ``--rounds``
rounds in which the setups take turns (so a slow spell of a shared machine hits all of them alike).

    python benchmarks/server.py [--calls 200] [--rounds 3]
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import platform
import ssl
import statistics
import subprocess
import sys
import tempfile
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

TENANT = "00000000-0000-0000-0000-0000000000be"
WARMUP = 20


# -- the floor: a minimal threaded HTTPS server with a canned answer ------------------------------------


def _floor_bundle(port: int) -> bytes:
    return json.dumps(
        {
            "value": "value",
            "id": f"https://localhost:{port}/secrets/bench/0123456789abcdef0123456789abcdef",
            "attributes": {
                "enabled": True,
                "created": 1767225600,
                "updated": 1767225600,
                "recoverableDays": 90,
                "recoveryLevel": "Recoverable+Purgeable",
            },
        }
    ).encode()


class _FloorHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def do_PUT(self) -> None:
        self.rfile.read(int(self.headers.get("Content-Length", "0")))
        self.do_GET()

    def do_GET(self) -> None:
        if "Authorization" not in self.headers:
            challenge = f'Bearer authorization="https://login.microsoftonline.com/{TENANT}", resource="https://localhost:{self.server.server_address[1]}"'
            self.send_response(401)
            self.send_header("WWW-Authenticate", challenge)
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        body = _floor_bundle(self.server.server_address[1])
        self.send_response(200)
        self.send_header("Content-Type", "application/json; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self._headers_buffer.append(b"\r\n" + body)  # one write, as the emulator does
        self.flush_headers()

    def log_message(self, *args: Any) -> None:
        pass


class _TLSServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, context: ssl.SSLContext) -> None:
        super().__init__(("127.0.0.1", 0), _FloorHandler)
        self.context = context

    def finish_request(self, request: Any, client_address: Any) -> None:
        import socket

        request.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        with self.context.wrap_socket(request, server_side=True) as tls:
            self.RequestHandlerClass(tls, client_address, self)


def run_floor(data_dir: str, port_file: str) -> None:
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    from kv_emulator.server.tls import ServerCertificateAuthority

    context = ServerCertificateAuthority(data_dir).context_for("localhost")
    server = _TLSServer(context)
    Path(port_file).write_text(str(server.server_address[1]))
    server.serve_forever()


# -- clients ----------------------------------------------------------------------------------------------


OPERATIONS = ("get_secret", "set_secret")


def _client(target: dict[str, Any], calls: int, ready: Any, go: Any, results: Any) -> None:
    """One client process: for each operation in turn, a warm-up, then (at the signal) ``calls`` timed calls."""
    from azure.core.credentials import AccessToken
    from azure.keyvault.secrets import SecretClient

    class Token:
        def get_token(self, *scopes: str, **kwargs: Any) -> AccessToken:
            return AccessToken("bench-token", int(time.time()) + 3600)

        def get_token_info(self, *scopes: str, **kwargs: Any) -> Any:
            from azure.core.credentials import AccessTokenInfo

            return AccessTokenInfo("bench-token", int(time.time()) + 3600)

    for name in ("HTTPS_PROXY", "https_proxy", "REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE"):
        os.environ.pop(name, None)
    options: dict[str, Any] = {"connection_verify": target["ca"], "verify_challenge_resource": target["verify"]}
    if target.get("proxy"):
        options["proxies"] = {"https": target["proxy"]}
    client = SecretClient(target["url"], Token(), **options)  # type: ignore[arg-type]
    own = f"bench-{os.getpid()}"  # each client writes its own secret, as parallel tests would
    call = {"get_secret": lambda: client.get_secret("bench"), "set_secret": lambda: client.set_secret(own, "value")}
    for operation, signal in zip(OPERATIONS, go, strict=True):
        for _ in range(WARMUP):
            call[operation]()
        ready.release()
        signal.wait()
        latencies = []
        started = time.perf_counter()
        for _ in range(calls):
            t = time.perf_counter()
            call[operation]()
            latencies.append(time.perf_counter() - t)
        results.put((operation, time.perf_counter() - started, latencies))


def measure(target: dict[str, Any], clients: int, calls: int) -> dict[str, dict[str, float]]:
    """Per operation: requests/s over all clients, p50 and p99 latency (ms). The clients run each operation
    together, started by one signal after all have warmed up."""
    context = multiprocessing.get_context("spawn")
    ready, results = context.Semaphore(0), context.Queue()
    go = [context.Event() for _ in OPERATIONS]
    workers = [context.Process(target=_client, args=(target, calls, ready, go, results)) for _ in range(clients)]
    for worker in workers:
        worker.start()
    measured: dict[str, dict[str, float]] = {}
    for operation, signal in zip(OPERATIONS, go, strict=True):
        for _ in workers:
            ready.acquire(timeout=300)
        signal.set()
        outcomes = [results.get(timeout=600) for _ in workers]
        assert all(done == operation for done, _, _ in outcomes), outcomes
        wall = max(elapsed for _, elapsed, _ in outcomes)
        latencies = sorted(latency for _, _, values in outcomes for latency in values)
        measured[operation] = {
            "rps": clients * calls / wall,
            "p50": statistics.median(latencies) * 1000,
            "p99": latencies[max(0, int(len(latencies) * 0.99) - 1)] * 1000,
        }
    for worker in workers:
        worker.join(timeout=60)
    return measured


def _wait_for(path: Path, process: subprocess.Popen[Any]) -> None:
    deadline = time.monotonic() + 120
    while not path.exists():
        if process.poll() is not None or time.monotonic() > deadline:
            raise SystemExit(f"server did not start ({path})")
        time.sleep(0.1)
    time.sleep(0.3)


FLOOR = "floor (canned, threaded https)"


def _report(targets: dict[str, dict[str, Any]], calls: int, rounds_wanted: int) -> None:
    """Run the rounds for 1 and 8 clients; print each setup's figures and ratios, reads first, then writes."""
    lines: dict[str, list[str]] = {operation: [] for operation in OPERATIONS}
    for clients in (1, 8):
        # The setups take turns, round after round, so a slow spell of a shared machine hits all alike;
        # each figure is the median over the rounds.
        rounds: dict[str, list[dict[str, dict[str, float]]]] = {label: [] for label in targets}
        for _ in range(rounds_wanted):
            for label, target in targets.items():
                rounds[label].append(measure(target, clients, calls))
        for operation in OPERATIONS:
            median = {
                label: {k: statistics.median(r[operation][k] for r in results) for k in ("rps", "p50", "p99")}
                for label, results in rounds.items()
            }
            floor_rps = median[FLOOR]["rps"]
            for label, result in median.items():
                lines[operation].append(
                    f"  {clients} client(s)  {label:32s} {result['rps']:7.0f} req/s  p50 {result['p50']:6.2f} ms"
                    f"  p99 {result['p99']:6.2f} ms  {result['rps'] / floor_rps:4.2f}x floor"
                )
            proxy, direct = median["kv-emulator proxy"], median["kv-emulator direct"]
            lines[operation].append(
                f"  {clients} client(s)  proxy / direct time per call: {proxy['p50'] / direct['p50']:4.2f}x (p50),"
                f" {direct['rps'] / proxy['rps']:4.2f}x (1 / throughput)"
            )
    for operation, printed in lines.items():
        print(f"{operation}:")
        print("\n".join(printed))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--calls", type=int, default=200, help="timed calls per client per round (default 200)")
    parser.add_argument("--rounds", type=int, default=3, help="rounds, the setups taking turns (default 3)")
    parser.add_argument("--floor", nargs=2, metavar=("DATA_DIR", "PORT_FILE"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.floor:
        run_floor(*args.floor)
        return
    root = Path(__file__).resolve().parent.parent
    with tempfile.TemporaryDirectory() as folder:
        data_dir = Path(folder)
        emulator = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "kv_emulator",
                "serve",
                "--data-dir",
                folder,
                "--ephemeral",
                "--quiet",
                "--port",
                "0",
                "--proxy-port",
                "0",
            ],
            cwd=root,
            stdout=subprocess.DEVNULL,
        )
        floor = subprocess.Popen([sys.executable, __file__, "--floor", folder, str(data_dir / "floor.port")])
        try:
            _wait_for(data_dir / "server.json", emulator)
            _wait_for(data_dir / "floor.port", floor)
            runtime = json.loads((data_dir / "server.json").read_text())
            ca = str(data_dir / "ca.pem")
            import requests

            requests.put(
                f"https://localhost:{runtime['port']}/secrets/bench",
                params={"api-version": "7.5"},
                json={"value": "value"},
                headers={"Authorization": "Bearer x"},
                verify=ca,
                timeout=30,
            ).raise_for_status()
            floor_port = int((data_dir / "floor.port").read_text())
            targets = {
                FLOOR: {"url": f"https://localhost:{floor_port}", "ca": ca, "verify": False},
                "kv-emulator direct": {"url": f"https://localhost:{runtime['port']}", "ca": ca, "verify": False},
                "kv-emulator proxy": {
                    "url": "https://bench.vault.azure.net",
                    "ca": ca,
                    "verify": True,
                    "proxy": f"http://127.0.0.1:{runtime['proxy_port']}",
                },
            }
            requests.put(
                f"https://localhost:{runtime['port']}/secrets/bench",
                params={"api-version": "7.5"},
                json={"value": "value"},
                headers={"Authorization": "Bearer x", "Host": "bench.vault.azure.net"},
                verify=ca,
                timeout=30,
            )
            print(
                f"get_secret (read) and set_secret (write), {args.calls} timed calls each per client "
                f"(Python {platform.python_version()}, {platform.system()} {platform.machine()}, {os.cpu_count()} CPUs)"
            )
            _report(targets, args.calls, args.rounds)
        finally:
            emulator.terminate()
            floor.terminate()
            emulator.wait(timeout=30)
            floor.wait(timeout=30)


if __name__ == "__main__":
    main()
