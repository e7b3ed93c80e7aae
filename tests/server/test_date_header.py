"""The server's ``Date`` header: formatted once a second (it names whole seconds), not once an answer."""

from __future__ import annotations

import email.utils
import time

from kv_emulator.server.handler import EmulatorRequestHandler


def test_date_header_as_http_server_formats_it() -> None:
    """Each answer still names the second it is sent in, as ``http.server`` would format it."""
    handler = EmulatorRequestHandler.__new__(EmulatorRequestHandler)  # no socket: only the formatting
    for _ in range(3):
        before = int(time.time())
        value = handler.date_time_string()
        after = int(time.time())
        assert value in {email.utils.formatdate(second, usegmt=True) for second in range(before, after + 1)}
        time.sleep(0.6)
    assert handler.date_time_string(1767225600.9) == "Thu, 01 Jan 2026 00:00:00 GMT"
