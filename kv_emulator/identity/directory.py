"""An emulated Microsoft Entra ID directory: principals, and the signed tokens it issues for them.

Tokens are real RS256 JWTs (``iss``, ``aud``, ``tid``, ``oid``, ``appid``, ``iat``, ``nbf``, ``exp``) signed by
the directory's key, whose public half is served as JWKS, so the vault (or a test) can verify them.

The directory is *open* until a test registers a principal: any client id and secret then gets a token,
so suites that build ``ClientSecretCredential`` from CI variables run unchanged. Once principals are
registered, unknown clients and wrong secrets are refused with the errors Entra ID sends.
"""

from __future__ import annotations

import base64
import dataclasses
import functools
import hashlib
import threading
import uuid
from typing import TYPE_CHECKING, Any

import jwt
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from ..clock import Clock
from ..encoding import b64url_encode
from ..hosts import cloud_of_resource

if TYPE_CHECKING:
    from .cli import CliShim

__all__ = ["TOKEN_LIFETIME", "Directory", "IdentityError", "Principal"]

TOKEN_LIFETIME = 3599
_NAMESPACE = uuid.UUID("6ba7b811-9dad-11d1-80b4-00c04fd430c8")


class IdentityError(Exception):
    """An OAuth error as Entra ID answers it: status and ``{"error", "error_description", ...}``."""

    def __init__(self, status: int, error: str, description: str, code: int | None = None) -> None:
        super().__init__(description)
        self.status = status
        self.error = error
        self.description = description
        self.code = code

    def body(self) -> dict[str, Any]:
        body: dict[str, Any] = {"error": self.error, "error_description": self.description}
        if self.code is not None:
            body["error_codes"] = [self.code]
        body["trace_id"] = str(uuid.uuid4())
        body["correlation_id"] = str(uuid.uuid4())
        return body


@dataclasses.dataclass
class Principal:
    """A service principal (secret or certificate), a workload identity, or a managed identity."""

    client_id: str
    tenant_id: str
    object_id: str
    kind: str = "service_principal"  # or "managed_identity"
    secret: str | None = None
    certificate: x509.Certificate | None = None
    federated: bool = False
    display_name: str = ""


@functools.cache
def _signing_key() -> tuple[rsa.RSAPrivateKey, str]:
    """The token-signing key and its ``kid``: one per process, made on first use.

    Per process, not per emulator: a credential's token cached by azure-core in one test stays valid
    for the next test's emulator (in strict mode too), and starting an emulator costs no key generation.
    The directories (principals, issued tokens) stay per emulator.
    """
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    return key, _key_id(key)


@functools.lru_cache(maxsize=8)
def _pkcs8(key: rsa.RSAPrivateKey) -> str:
    """The key as base64 PKCS#8 DER (state: a server writes it with every change, so once per key)."""
    der = key.private_bytes(serialization.Encoding.DER, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    return base64.b64encode(der).decode()


def _key_id(key: rsa.RSAPrivateKey) -> str:
    return b64url_encode(hashlib.sha256(str(key.public_key().public_numbers().n).encode()).digest()[:20])


def _stable_object_id(tenant_id: str, client_id: str) -> str:
    """An object id that stays the same for the same app in the same tenant, run after run."""
    return str(uuid.uuid5(_NAMESPACE, f"{tenant_id}/{client_id}"))


class Directory:
    def __init__(self, clock: Clock, default_tenant: str) -> None:
        self.clock = clock
        self.default_tenant = default_tenant
        self._lock = threading.Lock()
        self._principals: dict[str, Principal] = {}
        self._signing: tuple[rsa.RSAPrivateKey, str] | None = None  # a restored server's key, else the process's
        self.identity_header: str | None = None
        """The App Service identity header a server's managed identities answer to (kept in its state)."""
        self.issued: list[dict[str, Any]] = []
        """Claims of every token issued, in order (no token strings: they are credentials)."""

    # -- principals ---------------------------------------------------------------------------------

    @staticmethod
    def object_id_for(tenant_id: str, client_id: str) -> str:
        return _stable_object_id(tenant_id, client_id)

    @property
    def open(self) -> bool:
        """True while no principal is registered: every client gets a token."""
        with self._lock:
            return not self._principals

    def add_service_principal(
        self,
        client_id: str | None = None,
        *,
        secret: str | None = None,
        certificate: x509.Certificate | None = None,
        federated: bool = False,
        tenant_id: str | None = None,
        object_id: str | None = None,
        display_name: str = "",
    ) -> Principal:
        """Register an app that authenticates with a secret, a certificate, or a federated token."""
        client_id = client_id or str(uuid.uuid4())
        tenant = tenant_id or self.default_tenant
        principal = Principal(
            client_id,
            tenant,
            object_id or _stable_object_id(tenant, client_id),
            secret=secret,
            certificate=certificate,
            federated=federated,
            display_name=display_name,
        )
        with self._lock:
            self._principals[client_id.lower()] = principal
        return principal

    def add_managed_identity(
        self, client_id: str | None = None, *, object_id: str | None = None, tenant_id: str | None = None
    ) -> Principal:
        """Register a managed identity (system-assigned when it is the only one)."""
        client_id = client_id or str(uuid.uuid4())
        tenant = tenant_id or self.default_tenant
        principal = Principal(
            client_id, tenant, object_id or _stable_object_id(tenant, client_id), kind="managed_identity"
        )
        with self._lock:
            self._principals[client_id.lower()] = principal
        return principal

    def principal(self, client_id: str, tenant_id: str) -> Principal | None:
        """The registered principal, or an ad-hoc one while the directory is open."""
        with self._lock:
            found = self._principals.get(client_id.lower())
            if found is not None or self._principals:
                return found
        return Principal(client_id, tenant_id, _stable_object_id(tenant_id, client_id))

    @property
    def signed_in_user(self) -> tuple[str, str]:
        """The user the fake ``az``/``azd`` sign in as: (user principal name, object id), as Graph's ``/me``."""
        from .cli import CLI_USER

        return CLI_USER, _stable_object_id(self.default_tenant, CLI_USER)

    def managed_identity(self, client_id: str | None, object_id: str | None) -> Principal | None:
        with self._lock:
            identities = [p for p in self._principals.values() if p.kind == "managed_identity"]
            registered = bool(self._principals)
        if not registered:
            chosen = client_id or "system-assigned"
            return Principal(chosen, self.default_tenant, object_id or _stable_object_id(self.default_tenant, chosen))
        for identity in identities:
            if client_id and identity.client_id.lower() == client_id.lower():
                return identity
            if object_id and identity.object_id.lower() == object_id.lower():
                return identity
        if not client_id and not object_id and len(identities) == 1:
            return identities[0]
        return None

    def principals(self, kind: str | None = None) -> list[Principal]:
        """The registered principals, oldest first (what Microsoft Graph lists as service principals; ``kind``:
        only ``"service_principal"`` or ``"managed_identity"``)."""
        with self._lock:
            return [p for p in self._principals.values() if kind is None or p.kind == kind]

    def remove(self, client_id: str) -> Principal | None:
        """Forget a registered principal; the removed one, or None if there was none."""
        with self._lock:
            return self._principals.pop(client_id.lower(), None)

    def clear(self) -> None:
        with self._lock:
            self._principals.clear()
            self.issued.clear()

    # -- tokens -------------------------------------------------------------------------------------

    @property
    def _key(self) -> rsa.RSAPrivateKey:
        return (self._signing or _signing_key())[0]

    @property
    def key_id(self) -> str:
        return (self._signing or _signing_key())[1]

    @property
    def signing_key(self) -> rsa.RSAPrivateKey:
        """The token-signing key: state a server keeps, so tokens issued before a restart verify after it."""
        return self._key

    def use_signing_key(self, key: rsa.RSAPrivateKey) -> None:
        """Sign and verify with ``key`` from now on (a restored state's); its ``kid`` is derived as always."""
        self._signing = (key, _key_id(key))

    # -- state (kv_emulator.state) --------------------------------------------------------------------

    def to_state(self) -> dict[str, Any]:
        """Plain data: the principals (a certificate as base64 DER), the token-signing key (PKCS#8, base64) and
        the App Service identity header, so tokens and a printed environment stay valid after a restore."""
        with self._lock:
            principals = [
                {
                    **{f.name: getattr(p, f.name) for f in dataclasses.fields(p) if f.name != "certificate"},
                    "certificate": (
                        base64.b64encode(p.certificate.public_bytes(serialization.Encoding.DER)).decode()
                        if p.certificate is not None
                        else None
                    ),
                }
                for p in self._principals.values()
            ]
        return {
            "principals": principals,
            "signing_key": _pkcs8(self.signing_key),
            "identity_header": self.identity_header,
        }

    def from_state(self, data: dict[str, Any]) -> None:
        principals = {}
        for item in data.get("principals", ()):
            values = dict(item)
            certificate = values.pop("certificate", None)
            values["certificate"] = (
                x509.load_der_x509_certificate(base64.b64decode(certificate)) if certificate is not None else None
            )
            principals[str(values["client_id"]).lower()] = Principal(**values)
        with self._lock:
            self._principals = principals
        if data.get("signing_key"):
            key = serialization.load_der_private_key(base64.b64decode(data["signing_key"]), password=None)
            if not isinstance(key, rsa.RSAPrivateKey):
                raise ValueError("the token-signing key is an RSA key")
            self.use_signing_key(key)
        self.identity_header = data.get("identity_header")

    def cli_shim(self) -> CliShim:
        """Fake ``az``/``azd`` on ``PATH`` that sign with this directory's key (``emulate_cli``)."""
        from ..hosts import CLOUDS
        from .cli import CLI_USER, CliShim, cli_directory

        pem = self._key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
        issuers = {s: c.sts_host for c in CLOUDS for s in (c.vault_suffix, c.hsm_suffix)}
        object_id = _stable_object_id(self.default_tenant, CLI_USER)
        return CliShim(cli_directory(pem, self.key_id, self.default_tenant, object_id, issuers))

    @property
    def public_key(self) -> rsa.RSAPublicKey:
        return self._key.public_key()

    def jwks(self) -> dict[str, Any]:
        numbers = self.public_key.public_numbers()
        return {
            "keys": [
                {
                    "kty": "RSA",
                    "use": "sig",
                    "kid": self.key_id,
                    "n": b64url_encode(numbers.n.to_bytes((numbers.n.bit_length() + 7) // 8, "big")),
                    "e": b64url_encode(numbers.e.to_bytes((numbers.e.bit_length() + 7) // 8, "big")),
                }
            ]
        }

    @staticmethod
    def issuer(tenant_id: str, resource: str = "https://vault.azure.net") -> str:
        """The ``iss`` of a token for ``resource``: the issuer of the cloud that resource lives in."""
        return cloud_of_resource(resource).issuer(tenant_id)

    def issue(self, principal: Principal, resource: str, tenant_id: str | None = None) -> tuple[str, int]:
        """A signed access token for ``resource`` (an audience such as ``https://vault.azure.net``)."""
        tenant = tenant_id or principal.tenant_id
        now = int(self.clock.time())
        claims: dict[str, Any] = {
            "aud": resource.rstrip("/"),
            "iss": self.issuer(tenant, resource),
            "iat": now,
            "nbf": now,
            "exp": now + TOKEN_LIFETIME,
            "tid": tenant,
            "oid": principal.object_id,
            "sub": principal.object_id,
            "appid": principal.client_id,
            "appidacr": "2" if principal.certificate else "1",
            "idtyp": "app",
            "ver": "1.0",
        }
        if principal.kind == "managed_identity":
            claims["xms_mirid"] = f"/subscriptions/emulated/providers/managedIdentity/{principal.client_id}"
        token = jwt.encode(claims, self._key, algorithm="RS256", headers={"kid": self.key_id})
        with self._lock:
            self.issued.append(claims)
        return token, TOKEN_LIFETIME

    def verify(self, token: str) -> dict[str, Any]:
        """The claims of a token this directory signed (signature only; the caller checks the rest)."""
        claims: dict[str, Any] = jwt.decode(
            token,
            self.public_key,
            algorithms=["RS256"],
            options={"verify_aud": False, "verify_exp": False, "verify_nbf": False, "verify_iat": False},
        )
        return claims
