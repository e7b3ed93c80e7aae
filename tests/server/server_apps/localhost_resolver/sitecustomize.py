"""Resolve ``*.localhost`` to 127.0.0.1, as systemd-resolved and nss-myhostname do (this CI machine has neither).

Put on PYTHONPATH of a client process only; it changes name resolution, nothing else.
"""

import socket

_getaddrinfo = socket.getaddrinfo


def _resolve(host, *args, **kwargs):  # type: ignore[no-untyped-def]
    if isinstance(host, str) and host.lower().endswith(".localhost"):
        host = "127.0.0.1"
    return _getaddrinfo(host, *args, **kwargs)


socket.getaddrinfo = _resolve
