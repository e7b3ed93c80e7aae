"""One connection's requests: parsed by ``http.server`` / werkzeug, answered by the emulator's WSGI apps.

The handler keeps connections alive (SDKs reuse them), answers a request line or Host header it cannot
read with a 400 that says why, reads each body fully (bounded) before calling the app, acts out transport
faults the pipeline asked for (delay, drop the connection, stay silent for a while), notes when it answers
each call so the journal can measure the gap before a retry, and logs one line per request. On the proxy
port it also answers ``CONNECT``: for emulated hosts it terminates TLS with a certificate for that host and
serves the decrypted requests with this same handler.
"""

from __future__ import annotations

import contextlib
import functools
import io
import ipaddress
import json
import logging
import re
import socket
import ssl
import time
from typing import Any
from urllib.parse import urlsplit

from werkzeug.serving import DechunkedInput, WSGIRequestHandler

from ..hosts import parse_host
from ..http.app import ENTRY_KEY, VAULT_HOST_KEY
from ..http.transport import TIMEOUT
from . import tunnel
from .transport import act_out, claim_transport

__all__ = ["EmulatorRequestHandler"]

log = logging.getLogger("kv_emulator.server")

_ERROR_CODES = {
    400: "BadRequest",
    403: "Forbidden",
    405: "MethodNotAllowed",
    408: "RequestTimeout",
    413: "RequestEntityTooLarge",
    414: "RequestUriTooLong",
    431: "RequestHeaderFieldsTooLarge",
    500: "InternalServerError",
    501: "NotImplemented",
    502: "BadGateway",
}


#: RFC 9110's token: what a method may be made of.
_TOKEN = re.compile(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")
_LABEL = re.compile(r"[A-Za-z0-9_](?:[A-Za-z0-9_-]{0,61}[A-Za-z0-9_])?")


#: The last ``Date`` header value and its second (shared by the handlers' threads; replaced whole).
_DATE: tuple[int, str] = (-1, "")


class _BodyTooLarge(Exception):
    pass


def _valid_host(host: str) -> bool:
    """An IP literal or a DNS name (letters, digits, ``-`` and ``_`` in labels of 1-63; IDNs as punycode)."""
    with contextlib.suppress(ValueError):
        ipaddress.ip_address(host)
        return True
    try:
        ascii_host = host if host.isascii() else host.encode("idna").decode("ascii")
    except UnicodeError:
        return False
    labels = ascii_host.removesuffix(".").split(".")
    return len(ascii_host) <= 253 and all(_LABEL.fullmatch(label) for label in labels)


@functools.lru_cache(maxsize=512)  # clients repeat the same few Host headers: checked once each
def _authority(text: str, *, port_required: bool = True) -> tuple[str, int | None] | None:
    """``(host, port)`` of ``host:port`` or ``[v6]:port`` (the port optional unless required), lowercased;
    None when it is not one (a CONNECT's target, a Host header)."""
    if text.startswith("["):
        host, bracket, rest = text[1:].partition("]")
        if not bracket or ":" not in host or (rest and not rest.startswith(":")):
            return None
        sep, port = rest[:1], rest[1:]
    else:
        host, sep, port = text.rpartition(":") if ":" in text else (text, "", "")
        if ":" in host:
            return None
    if not host or not _valid_host(host.lower()) or (port_required and not sep):
        return None
    if not sep:
        return host.lower(), None
    if not (port.isascii() and port.isdigit()) or not 0 < int(port) <= 65535:
        return None
    return host.lower(), int(port)


def _target_problem(method: str, target: str, host: str) -> str | None:
    """Why a request line cannot be served (a 400 with that reason), or None. Checked before any app runs, so
    a malformed line is answered here and never reaches a URL parser or ``http.client`` that would raise."""
    if not _TOKEN.fullmatch(method):
        return f"the request method {method!r} is not an HTTP method (RFC 9110 token characters only)"
    if host and _authority(host, port_required=False) is None:
        return f"the Host header {host!r} is not a host name or IP address with an optional port"
    if target.startswith("/") or target == "*":
        return None
    try:
        parts = urlsplit(target)
        port = parts.port
    except ValueError as exc:
        return f"the request target {target!r} is not a URL kv-emulator can read ({exc})"
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return f"the request target {target!r} is neither a path nor an absolute http:// or https:// URL"
    if not _valid_host(parts.hostname) or port == 0:
        return f"the request target {target!r} names no valid host and port"
    return None


class EmulatorRequestHandler(WSGIRequestHandler):
    """Serves HTTP/1.1 with keep-alive on a plain or TLS socket; ``tunnel`` names the host of a CONNECT."""

    protocol_version = "HTTP/1.1"
    server: Any  # the listeners.DoorServer that accepted the connection

    def __init__(self, request: Any, client_address: Any, server: Any, tunnel: str | None = None) -> None:
        self.tunnel = tunnel
        self.timeout = server.options.idle_timeout  # type: ignore[misc]  # per server, not per class
        super().__init__(request, client_address, server)

    # -- requests ----------------------------------------------------------------------------------

    def run_wsgi(self) -> None:
        started = time.perf_counter()
        arrived = time.monotonic()
        problem = _target_problem(self.command, self.path, self.headers.get("Host", "").strip())
        if problem:
            self.send_error(400, problem)
            return
        try:
            body = self._read_body()
        except _BodyTooLarge:
            self.send_error(413, f"request body larger than {self.server.options.max_body} bytes")
            return
        except (ValueError, OSError):
            self.send_error(400, "the request body could not be read (bad Content-Length or chunked encoding)")
            return
        environ = self._environ(body)
        label, app = self.server.router.route(environ, tunnel=self.tunnel, proxy=self.server.proxy)
        act = claim_transport(environ)
        journal = self.server.router.emulator.requests
        call_id = environ.get("HTTP_X_MS_CLIENT_REQUEST_ID")
        act.client_delay = journal.gap(call_id, arrived)
        captured: list[Any] = []

        def start_response(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
            captured[:] = [status, headers]
            return lambda data: None

        try:
            chunks = app(environ, start_response)
            try:
                payload = b"".join(chunks)
            finally:
                getattr(chunks, "close", lambda: None)()
        except Exception:  # the pipeline answers its own errors; this is a bug in a door app
            log.exception("kv-emulator: unhandled error answering %s %s", self.command, self.path)
            self.send_error(500, "internal error in kv-emulator (see the server log)")
            return
        status, headers = captured
        if label in ("vault", "service") and (self.command in ("GET", "HEAD") or not status.startswith("2")):
            try:
                self.server.read()  # what answering it changed (issuance on a poll, rotation, purge), if anything
            except Exception:
                log.exception("kv-emulator: could not store what %s %s changed", self.command, self.path)
        elif label in ("vault", "service"):
            address = parse_host(environ.get(VAULT_HOST_KEY) or environ.get("HTTP_HOST", ""))
            try:
                self.server.committed(address.dns_name if address else None)  # a 2xx means the change is stored
            except Exception as exc:
                log.exception("kv-emulator: could not store the change of %s %s", self.command, self.path)
                self.send_error(500, f"kv-emulator could not store the change ({type(exc).__name__}: {exc})")
                return
        entry = environ.get(ENTRY_KEY)
        operation = (entry.operation if entry is not None else None) or label
        if act.error == TIMEOUT:  # the client gives up during the silence, unseen: count from its start
            self._note_answer(journal, call_id, entry)
        fate = act_out(act, self.server.options.fault_timeout)
        if fate is not None:
            self._log(operation, fate, started)
            self.close_connection = True
            if act.error != TIMEOUT:
                self._note_answer(journal, call_id, entry)
            self._drop()
            return
        self._note_answer(journal, call_id, entry)  # just before sending, so a measured gap is never short
        code = self._answer(status, headers, payload)
        self._log(operation, code, started)

    @staticmethod
    def _note_answer(journal: Any, call_id: str | None, entry: Any) -> None:
        """When this call's answer goes out, for the gap before its retry. Not after the 401 challenge: the
        SDK resends at once, and in-process that attempt has no delay either."""
        if entry is None or not entry.challenged:
            journal.answered(call_id, time.monotonic())

    def _environ(self, body: bytes) -> dict[str, Any]:
        """werkzeug's environ for this request, with the body already read (and dechunked)."""
        environ = self.make_environ()
        environ["wsgi.url_scheme"] = "https" if (self.tunnel or self.server.tls) else "http"
        environ["wsgi.input"] = io.BytesIO(body)
        environ["CONTENT_LENGTH"] = str(len(body))
        environ.pop("wsgi.input_terminated", None)
        environ.pop("HTTP_TRANSFER_ENCODING", None)
        if self.tunnel and not environ.get("HTTP_HOST"):
            environ["HTTP_HOST"] = self.tunnel
        return environ

    def _answer(self, status: str, headers: list[tuple[str, str]], payload: bytes) -> str:
        """Send an app's answer; returns its status code."""
        code, _, reason = status.partition(" ")
        self.send_response(int(code), reason)
        for name, value in headers:
            self.send_header(name, value)
        if not any(name.lower() == "content-length" for name, _ in headers):
            self.send_header("Content-Length", str(len(payload)))
        if self.close_connection:
            self.send_header("Connection", "close")
        # Head and body in one write: two small writes meet the client's delayed ACK (40 ms a request).
        self._headers_buffer.append(b"\r\n")
        if self.command != "HEAD":
            self._headers_buffer.append(payload)
        self.flush_headers()
        return code

    def _read_body(self) -> bytes:
        limit = self.server.options.max_body
        chunked = "chunked" in self.headers.get("Transfer-Encoding", "").lower()
        if chunked or self.headers.get("Content-Length", "0").strip() not in ("", "0"):
            tunnel.ack_now(self.connection)  # the client may hold the body back until its head is acknowledged
        if chunked:
            data = DechunkedInput(self.rfile).read(limit + 1)  # type: ignore[arg-type]
            if len(data) > limit:
                raise _BodyTooLarge
            return data
        length_text = self.headers.get("Content-Length")
        if length_text is None:
            return b""
        length = int(length_text)
        if length < 0:
            raise ValueError(length_text)
        if length > limit:
            raise _BodyTooLarge
        data = self.rfile.read(length)
        if len(data) != length:
            raise OSError("client closed the connection mid-body")
        return data

    def handle_expect_100(self) -> bool:
        try:
            too_big = int(self.headers.get("Content-Length", "0")) > self.server.options.max_body
        except ValueError:
            too_big = False
        if too_big:
            self.send_error(413, f"request body larger than {self.server.options.max_body} bytes")
            return False
        return super().handle_expect_100()

    # -- the proxy ---------------------------------------------------------------------------------

    def do_CONNECT(self) -> None:
        started = time.perf_counter()
        if not self.server.proxy or self.tunnel:
            self.send_error(405, "CONNECT is answered on the proxy port only")
            return
        authority = _authority(self.path)
        if authority is None or authority[1] is None:
            self.send_error(400, f"CONNECT needs host:port with a valid host name or IP address, got {self.path!r}")
            return
        host, port = authority
        if port != 443:
            self.send_error(403, f"kv-emulator tunnels port 443 only, not {self.path}")
            return
        self.close_connection = True
        if self.server.router.emulates_host(host):
            early = self._buffered()  # before the 200: a client that waits for it has sent nothing more yet
            self.send_response_only(200, "Connection Established")
            self.end_headers()
            self.wfile.flush()
            self._serve_tls(host, early)
            return
        if not self.server.options.passthrough:
            self.send_error(403, f"kv-emulator does not emulate {host} and --no-passthrough refuses other hosts")
            return
        try:
            upstream = tunnel.connect_upstream(host, 443)
        except OSError as exc:
            self.send_error(502, f"kv-emulator could not reach {host}:443 ({exc.strerror or exc})")
            return
        early = self._buffered()
        self._log(f"tunnel {host}", "200", started)
        self.send_response_only(200, "Connection Established")
        self.end_headers()
        self.wfile.flush()
        with contextlib.suppress(OSError):
            upstream.sendall(early)
        tunnel.relay(self.connection, upstream, self.server.options.idle_timeout)

    def _buffered(self) -> bytes:
        """What the client sent after the CONNECT head that the buffered reader already holds (a ClientHello in
        the same write as the CONNECT, which clients may send without waiting for the 200), taken out of it."""
        timeout = self.connection.gettimeout()
        self.connection.settimeout(0)  # peek at the buffer: never wait for more bytes
        try:
            early = self.rfile.peek()  # type: ignore[attr-defined]
        except OSError:
            early = b""
        finally:
            self.connection.settimeout(timeout)
        return self.rfile.read(len(early)) if early else b""

    def _serve_tls(self, host: str, early: bytes) -> None:
        connection, relay = self.connection, None
        if early:
            connection, relay = tunnel.splice(self.connection, early, self.server.options.idle_timeout)
        try:
            self._serve_tls_on(connection, host)
        finally:
            if relay is not None:  # the relay ends when its end of the pair sees this one close
                connection.close()
                relay.join(timeout=5)

    def _serve_tls_on(self, connection: socket.socket, host: str) -> None:
        try:
            tls = self.server.ca.context_for(host).wrap_socket(connection, server_side=True)
        except (OSError, ssl.SSLError) as exc:
            log.debug("TLS handshake for %s failed: %s", host, exc)
            return
        self.server.track(tls)
        try:
            EmulatorRequestHandler(tls, self.client_address, self.server, tunnel=host)
        finally:
            self.server.untrack(tls)
            tls.close()

    # -- errors, logging ---------------------------------------------------------------------------

    def send_error(self, code: int, message: str | None = None, explain: str | None = None) -> None:
        """Protocol errors in the Key Vault error shape (JSON), never http.server's HTML page."""
        self.close_connection = True
        if getattr(self, "request_version", "HTTP/0.9") == "HTTP/0.9":
            self.request_version = "HTTP/1.0"  # garbage is not HTTP/0.9: answer with a status line anyway
        text = message or self.responses.get(code, ("Error",))[0]
        kind = _ERROR_CODES.get(code, "BadRequest" if code < 500 else "InternalServerError")
        body = json.dumps({"error": {"code": kind, "message": text}}).encode()
        try:
            self.send_response(code)
            self.send_header("Content-Type", "application/json; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            self.send_header("Connection", "close")
            self._headers_buffer.append(b"\r\n")
            if getattr(self, "command", None) != "HEAD":
                self._headers_buffer.append(body)
            self.flush_headers()
        except OSError:
            pass
        self._log(getattr(self, "command", None) or "-", str(code), None)

    def _drop(self) -> None:
        """Close the connection without an answer (an injected connection error or timeout)."""
        with contextlib.suppress(OSError):
            self.connection.shutdown(socket.SHUT_RDWR)

    def _log(self, operation: str, status: str, started: float | None) -> None:
        if not log.isEnabledFor(logging.INFO):  # --quiet: not even the formatting
            return
        took = f"{(time.perf_counter() - started) * 1000:.1f} ms" if started is not None else "-"
        target = getattr(self, "path", "-")
        if target.startswith("/"):  # origin form: name the host the client used
            scheme = "https" if (self.tunnel or self.server.tls) else "http"
            host = self.headers.get("Host", self.tunnel or "") if getattr(self, "headers", None) else ""
            target = f"{scheme}://{host}{target}"
        log.info("%s %s %s %s %s", operation, status, took, getattr(self, "command", "-"), target)

    def date_time_string(self, timestamp: float | None = None) -> str:
        """The ``Date`` header, formatted once a second (it names whole seconds) rather than once an answer."""
        if timestamp is not None:
            return super().date_time_string(timestamp)
        global _DATE
        second, cached = int(time.time()), _DATE
        if cached[0] != second:
            cached = _DATE = (second, super().date_time_string(second))
        return cached[1]

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        pass  # one line per request comes from _log, with the operation name

    def log_message(self, format: str, *args: Any) -> None:
        log.debug(format, *args)

    def log_error(self, format: str, *args: Any) -> None:
        log.debug(format, *args)

    def connection_dropped(self, error: BaseException, environ: Any = None) -> None:
        log.debug("connection dropped: %s", error)

    def handle(self) -> None:
        try:
            super().handle()
        except (ssl.SSLError, OSError) as exc:
            log.debug("connection closed: %s", exc)
        except Exception:  # a bug of ours outside an app: say so rather than close the connection silently
            log.exception("kv-emulator: unhandled error on a connection from %s", self.client_address)
            with contextlib.suppress(Exception):
                self.send_error(500, "internal error in kv-emulator (see the server log)")
