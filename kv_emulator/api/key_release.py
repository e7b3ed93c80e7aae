"""Key operations around trusted execution: release, secure wrap/unwrap, attestation, random bytes."""

from __future__ import annotations

import os
from typing import Any

from ..errors import BadParameter
from ..objects import crypto, key_material
from ..objects.attestation import TargetNotAttested, policy_allows, wrap_for_target
from ..objects.keys import Key, KeyForbidden
from .bodies import MISSING, read_str
from .context import Reply, RequestContext
from .keys import bundle, key_record, kid
from .operation import Operation

__all__ = ["OPERATIONS"]

_RANDOM_BYTES_MAX = 128


def _enabled(key: Key, operation: str) -> Key:
    if not key.attributes.enabled:
        raise KeyForbidden(f"Operation {operation} is not allowed on a disabled key.", "KeyDisabled")
    return key


def release(ctx: RequestContext, name: str, version: str) -> Reply:
    body = ctx.json()
    target = read_str(body, "target", required=True)
    nonce = read_str(body, "nonce")
    enc = read_str(body, "enc")
    enc = "CKM_RSA_AES_KEY_WRAP" if enc in (MISSING, None) else enc
    key = _enabled(ctx.vault.keys.get(name, version), "release")
    policy = key.payload.release_policy
    if not key.payload.exportable or policy is None:
        raise BadParameter("The key is not exportable and cannot be released.")  # unverified text
    authority = ctx.vault.attestation
    claims = authority.verify_token(target)
    if not policy_allows(policy.data, claims):
        # Unverified text: the service's wording for a policy that the token does not satisfy.
        raise TargetNotAttested("Target environment attestation statement does not satisfy the key release policy.")
    released = bundle(ctx, key)
    released["key"] = {
        "kid": kid(ctx, key),
        "kty": key.payload.material.kty,
        "key_ops": list(key.payload.key_ops),
        "key_hsm": wrap_for_target(key.payload.material, claims, enc),
    }
    request: dict[str, Any] = {"api-version": ctx.api_version.requested, "enc": enc, "kid": kid(ctx, key)}
    if nonce not in (MISSING, None):
        request["nonce"] = nonce
    return Reply({"value": authority.sign({"request": request, "response": {"key": released}})})


def get_key_attestation(ctx: RequestContext, name: str, version: str) -> Reply:
    if not version and not ctx.vault.managed_hsm and ctx.api_version.requested.startswith("7.6-preview"):
        # recorded on a vault with the 7.6 previews: GET /keys/k//attestation -> 400 (azure-sdk-assets, .NET
        # KeyClientLiveTests/GetKeyAttestationNonExisting, 2025-03, api 7.6-preview.2). Stable versions answer
        # the latest version's attestation, as the SDKs' get_key_attestation(name) expects.
        raise BadParameter("Method GET does not allow operation 'attestation'")
    key = ctx.vault.keys.get(name, version)
    material = key.payload.material
    if not material.hsm:
        raise BadParameter("Key attestation is only available for hardware-protected (HSM) keys.")  # unverified
    authority = ctx.vault.attestation
    statement = {"kid": kid(ctx, key), "kty": material.kty, "hsm": True, "generator": "kv-emulator"}
    attestation: dict[str, Any] = {
        "certificatePemFile": key_material.b64url_encode(authority.certificate_pem()),
        "privateKeyAttestation": key_material.b64url_encode(authority.sign({**statement, "part": "private"}).encode()),
        "version": "1.0",
    }
    if material.family != "oct":
        public = material.public_jwk(kid(ctx, key), key.payload.key_ops)
        attestation["publicKeyAttestation"] = key_material.b64url_encode(
            authority.sign({**statement, "part": "public", "jwk": public}).encode()
        )
    rendered = bundle(ctx, key)
    rendered["attributes"]["attestation"] = attestation
    return Reply(rendered)


def get_random_bytes(ctx: RequestContext) -> Reply:
    count = ctx.json().get("count")
    if isinstance(count, bool) or not isinstance(count, int) or not 1 <= count <= _RANDOM_BYTES_MAX:
        # Recorded from a Managed HSM (which appends an Activity ID).
        raise BadParameter("GetRandomBytesRequest: count cannot be greater than 128 or less than 1")
    return Reply({"value": key_material.b64url_encode(os.urandom(count))})


def secure_wrap_key(ctx: RequestContext, name: str, version: str) -> Reply:
    """A fresh AES-256 key, made "inside the TEE" and wrapped with the vault key."""
    alg = read_str(ctx.json(), "alg", required=True)
    key = ctx.vault.keys.usable(name, version, "wrapKey")
    wrapped = crypto.wrap_key(key.payload.material, alg, os.urandom(32))
    return Reply({"kid": kid(ctx, key), "alg": alg, "value": key_material.b64url_encode(wrapped)})


def secure_unwrap_key(ctx: RequestContext, name: str, version: str) -> Reply:
    """Unwrap, but only for a target whose attestation token the vault can verify."""
    body = ctx.json()
    alg = read_str(body, "alg", required=True)
    value = key_material.b64url_decode(read_str(body, "value", required=True), field="value")
    ctx.vault.attestation.verify_token(read_str(body, "target", required=True))
    key = ctx.vault.keys.usable(name, version, "unwrapKey")
    plain = crypto.unwrap_key(key.payload.material, alg, value)
    return Reply({"kid": kid(ctx, key), "alg": alg, "value": key_material.b64url_encode(plain)})


OPERATIONS: tuple[Operation, ...] = (
    # Key attestation came with 7.6 (recalled; unverified here).
    key_record(
        "GET",
        "/keys/{key-name}/{key-version}/attestation",
        "GetKeyAttestation",
        get_key_attestation,
        permission="get",
        action="keys/read",
        hsm_action="keys/read/action",
        since="7.6",
    ),
    # Secure key release and random bytes came with 7.3 (the 7.2 keys.json has neither).
    key_record(
        "POST",
        "/keys/{key-name}/{key-version}/release",
        "release",
        release,
        permission="release",
        action="keys/release/action",
        hsm_action="keys/release/action",
        since="7.3",
    ),
    # Secure wrap and unwrap are in the 2026-04-01 keys.json and not in 2025-07-01's (checked).
    key_record(
        "POST",
        "/keys/{key-name}/{key-version}/secureunwrapkey",
        "secureunwrapkey",
        secure_unwrap_key,
        permission="unwrapKey",
        action="keys/unwrap/action",
        hsm_action="keys/unwrap/action",
        since="2026-04-01",
    ),
    key_record(
        "POST",
        "/keys/{key-name}/{key-version}/securewrapkey",
        "securewrapkey",
        secure_wrap_key,
        permission="wrapKey",
        action="keys/wrap/action",
        hsm_action="keys/wrap/action",
        since="2026-04-01",
    ),
    # A vault has no rng data action of its own: it checks keys/read.
    key_record(
        "POST",
        "/rng",
        "GetRandomBytes",
        get_random_bytes,
        permission="get",
        action="keys/read",
        hsm_action="rng/action",
        since="7.3",
    ),
)
