"""kill -9 at random moments loses nothing acknowledged (issue 20 item 3): the server stores each change, one
row per object, in one SQLite transaction before its 2xx. A client writes (and deletes) as fast as it can
while the server is killed with SIGKILL at random moments and started again on the same data dir; every
write that was answered 2xx must be there at the end, every acknowledged delete too. An answer that never
came may have been stored or not. The emulator's own guarantee: no Azure counterpart."""

from __future__ import annotations

import random
import threading
import time
from pathlib import Path

import pytest
import requests
from test_server_restart import Running

KILLS = 4


def _writer(server: Running, prefix: str, acked: dict[str, str], deleted: set[str], stop: threading.Event) -> None:
    i = 0
    while not stop.is_set():
        name = f"{prefix}-{i}"
        try:
            if i % 5 == 4 and acked:
                victim = sorted(acked)[-1]
                if server.request("DELETE", f"/secrets/{victim}").status_code == 200:
                    deleted.add(victim)
                    del acked[victim]
            elif server.request("PUT", f"/secrets/{name}", json={"value": name}).status_code == 200:
                acked[name] = name
        except requests.RequestException:
            return  # the server died under this request: its answer never came
        i += 1


@pytest.mark.skipif(not hasattr(__import__("signal"), "SIGKILL"), reason="SIGKILL is POSIX")
def test_kill_9_at_random_moments_loses_nothing_acknowledged(tmp_path: Path) -> None:
    rng = random.Random(20)
    acked: dict[str, str] = {}
    deleted: set[str] = set()
    for round_ in range(KILLS):
        server = Running(tmp_path)
        stop = threading.Event()
        writer = threading.Thread(target=_writer, args=(server, f"r{round_}", acked, deleted, stop))
        writer.start()
        time.sleep(rng.uniform(0.3, 1.2))
        server.kill()
        stop.set()
        writer.join(timeout=30)
    server = Running(tmp_path)
    try:
        assert len(acked) > 10, "the writer did not get far enough to test anything"
        for name, value in acked.items():
            answer = server.request("GET", f"/secrets/{name}")
            assert answer.status_code == 200 and answer.json()["value"] == value, (name, answer.text)
        for name in deleted:
            assert server.request("GET", f"/deletedsecrets/{name}").status_code == 200, name
    finally:
        server.stop()
