"""TLS that clients trust once: a CA kept in the data directory, and a leaf certificate per host (SNI).

The CA is generated on first start and reused, so a client sets up trust once. Leaf certificates are made
on demand for whatever host a client names (a vault, a login host, ``localhost``) and share one key, so a
new host costs one signature, not a key generation.
"""

from __future__ import annotations

import datetime
import ipaddress
import os
import ssl
import tempfile
import threading
from pathlib import Path

from cryptography import x509

try:
    import fcntl
except ImportError:  # Windows: no advisory locks; first starts there should not race
    fcntl = None  # type: ignore[assignment]
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

__all__ = ["CA_CERT_FILE", "CA_KEY_FILE", "ServerCertificateAuthority", "default_data_dir"]

CA_CERT_FILE = "ca.pem"
CA_KEY_FILE = "ca-key.pem"
_CA_NAME = "kv-emulator local CA"
_LEAF_DAYS = 365
_CA_DAYS = 3650
_MAX_CONTEXTS = 1024


def default_data_dir() -> Path:
    """A per-user directory: ``$XDG_DATA_HOME/kv-emulator`` (``~/.local/share/kv-emulator``)."""
    base = os.environ.get("XDG_DATA_HOME") or os.path.join(os.path.expanduser("~"), ".local", "share")
    return Path(base) / "kv-emulator"


def _now() -> datetime.datetime:
    return datetime.datetime.now(datetime.timezone.utc)


def _write_private(path: Path, data: bytes) -> None:
    """Write atomically, readable by the owner only (the CA key signs certificates clients trust)."""
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=path.name, suffix=".tmp")
    try:
        if hasattr(os, "fchmod"):  # POSIX; on Windows the file inherits the folder's ACL
            os.fchmod(fd, 0o600)
        os.write(fd, data)
    finally:
        os.close(fd)
    os.replace(tmp, path)


class ServerCertificateAuthority:
    """The server's TLS CA: ``ca.pem`` (share it with clients) and ``ca-key.pem`` (never leaves the directory).
    A vault's certificates are issued by another: :class:`kv_emulator.objects.certificate_crypto.CertificateAuthority`.
    """

    def __init__(self, data_dir: Path | str) -> None:
        self.data_dir = Path(data_dir)
        self.cert_path = self.data_dir / CA_CERT_FILE
        self._lock = threading.Lock()
        self._contexts: dict[str, ssl.SSLContext] = {}
        self._key, self.certificate = self._load_or_create()
        self._leaf_key = ec.generate_private_key(ec.SECP256R1())

    @property
    def pem(self) -> bytes:
        return self.certificate.public_bytes(serialization.Encoding.PEM)

    def _load_or_create(self) -> tuple[ec.EllipticCurvePrivateKey, x509.Certificate]:
        """Under a lock file: parallel first starts (pytest-xdist workers) must not write a key and a
        certificate that do not belong together."""
        self.data_dir.mkdir(parents=True, exist_ok=True)
        with open(self.data_dir / ".ca.lock", "a") as lock:
            if fcntl is not None:
                fcntl.flock(lock, fcntl.LOCK_EX)
            return self._load_or_create_locked()

    def _load_or_create_locked(self) -> tuple[ec.EllipticCurvePrivateKey, x509.Certificate]:
        key_path = self.data_dir / CA_KEY_FILE
        if self.cert_path.exists() and key_path.exists():
            key = serialization.load_pem_private_key(key_path.read_bytes(), password=None)
            cert = x509.load_pem_x509_certificate(self.cert_path.read_bytes())
            if isinstance(key, ec.EllipticCurvePrivateKey) and cert.not_valid_after_utc > _now():
                return key, cert
        self.data_dir.mkdir(parents=True, exist_ok=True)
        key = ec.generate_private_key(ec.SECP256R1())
        name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, _CA_NAME)])
        public = key.public_key()
        cert = (
            x509.CertificateBuilder()
            .subject_name(name)
            .issuer_name(name)
            .public_key(public)
            .serial_number(x509.random_serial_number())
            .not_valid_before(_now() - datetime.timedelta(days=1))
            .not_valid_after(_now() + datetime.timedelta(days=_CA_DAYS))
            .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
            .add_extension(
                x509.KeyUsage(
                    digital_signature=True,
                    content_commitment=False,
                    key_encipherment=False,
                    data_encipherment=False,
                    key_agreement=False,
                    key_cert_sign=True,
                    crl_sign=True,
                    encipher_only=False,
                    decipher_only=False,
                ),
                critical=True,
            )
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(public), critical=False)
            .sign(key, hashes.SHA256())
        )
        _write_private(
            key_path,
            key.private_bytes(
                serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
            ),
        )
        _write_private(self.cert_path, cert.public_bytes(serialization.Encoding.PEM))
        os.chmod(self.cert_path, 0o644)
        return key, cert

    def issue(self, host: str, *aliases: str) -> x509.Certificate:
        """A server certificate for ``host`` and ``aliases`` (DNS names or IP addresses), signed by this CA."""
        names: list[x509.GeneralName] = []
        for name in (host, *aliases):
            try:
                names.append(x509.IPAddress(ipaddress.ip_address(name)))
            except ValueError:
                names.append(x509.DNSName(name))
        public = self._leaf_key.public_key()
        ca_ski = self.certificate.extensions.get_extension_for_class(x509.SubjectKeyIdentifier).value
        return (
            x509.CertificateBuilder()
            .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, host[:64])]))
            .issuer_name(self.certificate.subject)
            .public_key(public)
            .serial_number(x509.random_serial_number())
            .not_valid_before(_now() - datetime.timedelta(days=1))
            .not_valid_after(_now() + datetime.timedelta(days=_LEAF_DAYS))
            .add_extension(x509.SubjectAlternativeName(names), critical=False)
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(
                x509.KeyUsage(
                    digital_signature=True,
                    content_commitment=False,
                    key_encipherment=False,
                    data_encipherment=False,
                    key_agreement=False,
                    key_cert_sign=False,
                    crl_sign=False,
                    encipher_only=False,
                    decipher_only=False,
                ),
                critical=True,
            )
            .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(public), critical=False)
            .add_extension(x509.AuthorityKeyIdentifier.from_issuer_subject_key_identifier(ca_ski), critical=False)
            .sign(self._key, hashes.SHA256())
        )

    def context_for(self, host: str) -> ssl.SSLContext:
        """A server-side TLS context presenting a certificate for ``host`` (made once, then cached)."""
        host = host.lower().rstrip(".")
        with self._lock:
            context = self._contexts.get(host)
            if context is not None:
                return context
            if len(self._contexts) >= _MAX_CONTEXTS:  # a client naming endless hosts costs memory, not more
                self._contexts.clear()
            # localhost also stands for the loopback addresses: clients send no SNI for an IP literal.
            cert = self.issue(host, "127.0.0.1", "::1") if host == "localhost" else self.issue(host)
            chain = cert.public_bytes(serialization.Encoding.PEM) + self.pem
            key = self._leaf_key.private_bytes(
                serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
            )
            context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            context.minimum_version = ssl.TLSVersion.TLSv1_2
            context.set_alpn_protocols(["http/1.1"])
            # ssl.SSLContext loads certificates from files only: write them, load them, remove them.
            with tempfile.TemporaryDirectory(prefix="kv-emulator-tls-") as folder:
                cert_file, key_file = Path(folder) / "leaf.pem", Path(folder) / "leaf-key.pem"
                cert_file.write_bytes(chain)
                _write_private(key_file, key)
                context.load_cert_chain(cert_file, key_file)
            self._contexts[host] = context
            return context

    def server_context(self, default_host: str) -> ssl.SSLContext:
        """A context for a listening port: the certificate follows the name the client asks for (SNI),
        ``default_host`` when it names none."""
        context = self.context_for(default_host)

        def choose(sock: ssl.SSLObject | ssl.SSLSocket, server_name: str | None, _: ssl.SSLContext) -> None:
            if server_name:
                sock.context = self.context_for(server_name)

        context.sni_callback = choose
        return context
