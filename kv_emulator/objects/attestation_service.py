"""Microsoft Azure Attestation's SGX calls, as the emulated attestation authority answers them.

``PUT /policies/{type}`` stores a policy (a JWS whose body is ``{"AttestationPolicy": base64url(text)}``)
and answers a ``PolicyResult``; ``POST /attest/OpenEnclave`` and ``/attest/SgxEnclave`` evaluate the
policy over the evidence and answer ``{"token": JWT}`` signed by the authority's key (published at
``/certs``), which the emulated vaults accept as the ``target`` of a key release.

The evidence is not verified: there is no SGX here. A report is read, not checked: an OpenEnclave report
or SGX quote long enough to hold an enclave report body gives its own measurements (MRSIGNER, MRENCLAVE,
product id, SVN, the debug attribute); any other bytes stand for a debuggable enclave whose MRENCLAVE is the
SHA-256 of the report. Runtime data sent as JSON becomes ``x-ms-runtime`` (the TEE's key goes in its
``keys``); with no runtime data at all the emulator plays the enclave and puts a transfer key of its own
there, whose private half :meth:`AttestationAuthority.transfer_key` gives back.
"""

from __future__ import annotations

import base64
import hashlib
import json
import secrets
from typing import Any

import jwt
from cryptography import x509

from .. import encoding
from .attestation import AttestationAuthority
from .attestation_policy import DEFAULT_SGX_POLICY, PolicyError, parse_policy
from .key_material import b64url_encode

__all__ = ["ATTESTATION_TYPES", "AttestationServiceError", "attest", "get_policy", "reset_policy", "set_policy"]

# The attestation types the service's policy routes name (api-version 2022-08-01); the emulator attests
# only the SGX ones.
ATTESTATION_TYPES = {name.lower(): name for name in ("SgxEnclave", "OpenEnclave", "Tpm", "TdxVm", "SevSnpVm")}
_SGX_TYPES = ("sgxenclave", "openenclave")
_OE_HEADER = 16  # oe_report_header_t: version, report_type (2 = remote), report_size
_QUOTE_HEADER = 48  # sgx_quote_t up to the report body
_REPORT_BODY = 384


class AttestationServiceError(Exception):
    """An attestation request the service refuses: HTTP status, error code and message."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status, self.code, self.message = status, code, message


def _bad(message: str) -> AttestationServiceError:
    # The service's error shape ({"error": {"code", "message"}}); code and text are ours (unverified).
    return AttestationServiceError(400, "InvalidParameter", message)


def _decode(text: str, *, field: str) -> bytes:
    try:
        return encoding.b64url_decode(text)
    except ValueError:  # binascii.Error included
        raise _bad(f"{field} is not valid base64url.") from None  # unverified text


# -- policies ---------------------------------------------------------------------------------------


def _policy_text(authority: AttestationAuthority, kind: str) -> str:
    return authority.attestation_policies.get(kind, DEFAULT_SGX_POLICY if kind in _SGX_TYPES else "")


def _policy_jws(authority: AttestationAuthority, text: str) -> str:
    """The policy as the service hands it back: an unsecured JWS of ``StoredAttestationPolicy``."""
    body = {"AttestationPolicy": b64url_encode(text.encode())}
    return jwt.encode(body, "", algorithm="none")


def _read_policy_jws(document: str) -> tuple[str, dict[str, Any] | None]:
    """The policy text in a set-policy JWS, and its signer's JWK when it is signed (checked against its x5c)."""
    try:
        header = jwt.get_unverified_header(document)
        body = jwt.decode(document, options={"verify_signature": False})
    except jwt.PyJWTError:
        raise _bad("The policy must be a JSON Web Signature whose body holds AttestationPolicy.") from None
    signer = None
    if header.get("alg", "none") != "none":
        chain = header.get("x5c") or [""]
        try:
            certificate = x509.load_der_x509_certificate(base64.b64decode(str(chain[0])))
            jwt.decode(document, certificate.public_key(), algorithms=[header["alg"]])  # type: ignore[arg-type]
        except (TypeError, IndexError, KeyError, ValueError, jwt.PyJWTError):
            raise _bad("The policy's signature does not verify with the certificate in its x5c header.") from None
        signer = {"kty": "RSA" if "RS" in header["alg"] or "PS" in header["alg"] else "EC", "x5c": chain}
    encoded = body.get("AttestationPolicy") if isinstance(body, dict) else None
    if encoded is None:
        return "", signer  # an empty body: the shape of a reset
    try:
        return _decode(str(encoded), field="AttestationPolicy").decode(), signer
    except (ValueError, UnicodeDecodeError):
        raise _bad("AttestationPolicy must be the policy text, base64url encoded.") from None


def _kind(attestation_type: str) -> str:
    kind = attestation_type.lower()
    if kind not in ATTESTATION_TYPES:
        raise _bad(f"Unknown attestation type {attestation_type!r}.")  # unverified text
    return kind


def _policy_result(authority: AttestationAuthority, result: str, document: str, text: str, signer: Any) -> str:
    hashed = b64url_encode(hashlib.sha256(document.encode()).digest())
    body: dict[str, Any] = {"x-ms-policy-result": result, "x-ms-policy-token-hash": hashed}
    if result == "Updated":
        body["x-ms-policy"] = _policy_jws(authority, text)
    if signer is not None:
        body["x-ms-policy-signer"] = signer
    return authority.encode_token(body)


def set_policy(authority: AttestationAuthority, attestation_type: str, document: str) -> dict[str, str]:
    """``PUT /policies/{type}``: store the policy the JWS carries; ``{"token": PolicyResult JWT}``."""
    kind = _kind(attestation_type)
    text, signer = _read_policy_jws(document.strip().strip('"'))
    try:
        parse_policy(text)
    except PolicyError as exc:
        raise AttestationServiceError(400, "PolicyParsingError", str(exc)) from None  # code unverified
    authority.attestation_policies[kind] = text
    return {"token": _policy_result(authority, "Updated", document.strip().strip('"'), text, signer)}


def reset_policy(authority: AttestationAuthority, attestation_type: str, document: str) -> dict[str, str]:
    """``POST /policies/{type}:reset``: back to the default policy."""
    kind = _kind(attestation_type)
    _, signer = _read_policy_jws(document.strip().strip('"') or _policy_jws(authority, ""))
    authority.attestation_policies.pop(kind, None)
    return {"token": _policy_result(authority, "Removed", document, "", signer)}


def get_policy(authority: AttestationAuthority, attestation_type: str) -> dict[str, str]:
    """``GET /policies/{type}``: ``{"token": JWT}`` whose ``x-ms-policy`` is the stored policy's JWS."""
    text = _policy_text(authority, _kind(attestation_type))
    return {"token": authority.encode_token({"x-ms-policy": _policy_jws(authority, text)})}


# -- attestation ------------------------------------------------------------------------------------


def _enclave_claims(evidence: bytes, oe_report: bool) -> dict[str, Any]:
    """The enclave's claims: read from an SGX report body when the evidence holds one, else stand-ins."""
    start = (_OE_HEADER if oe_report else 0) + _QUOTE_HEADER
    well_formed = len(evidence) >= start + _REPORT_BODY and (
        not oe_report or int.from_bytes(evidence[:4], "little") == 1
    )
    if not well_formed:
        return {
            "x-ms-sgx-is-debuggable": True,
            "x-ms-sgx-mrenclave": hashlib.sha256(evidence).hexdigest(),
            "x-ms-sgx-mrsigner": hashlib.sha256(b"kv-emulator enclave signer").hexdigest(),
            "x-ms-sgx-product-id": 0,
            "x-ms-sgx-svn": 0,
        }
    body = evidence[start : start + _REPORT_BODY]
    return {
        "x-ms-sgx-is-debuggable": bool(int.from_bytes(body[48:56], "little") & 0x2),  # SGX_FLAGS_DEBUG
        "x-ms-sgx-mrenclave": body[64:96].hex(),
        "x-ms-sgx-mrsigner": body[128:160].hex(),
        "x-ms-sgx-product-id": int.from_bytes(body[256:258], "little"),
        "x-ms-sgx-svn": int.from_bytes(body[258:260], "little"),
        "x-ms-sgx-report-data": body[320:384].hex(),
    }


def _data(body: dict[str, Any], field: str) -> tuple[bytes, bool] | None:
    """``runtimeData``/``initTimeData``: the bytes and whether they are JSON."""
    value = body.get(field)
    if value is None:
        return None
    if not isinstance(value, dict) or not isinstance(value.get("data"), str):
        raise _bad(f"{field} must be an object with data (base64url) and dataType.")
    data_type = str(value.get("dataType", "Binary"))
    if data_type.lower() not in ("binary", "json"):
        raise _bad(f"{field}.dataType must be Binary or JSON.")
    return _decode(value["data"], field=f"{field}.data"), data_type.lower() == "json"


def _json_claim(data: bytes, field: str) -> Any:
    try:
        return json.loads(data)
    except ValueError:
        raise _bad(f"{field} is declared JSON but is not valid JSON.") from None


def attest(authority: AttestationAuthority, attestation_type: str, body: Any) -> dict[str, str]:
    """``POST /attest/OpenEnclave|SgxEnclave``: evaluate the policy over the evidence; ``{"token": JWT}``."""
    kind = _kind(attestation_type)
    if not isinstance(body, dict):
        raise _bad("The request body must be a JSON object.")
    field = "report" if kind == "openenclave" else "quote"
    if not isinstance(body.get(field), str) or not body[field]:
        raise _bad(f"The request must carry the enclave's {field}, base64url encoded.")
    evidence = _decode(body[field], field=field)
    claims: dict[str, Any] = {"x-ms-attestation-type": "sgx", **_enclave_claims(evidence, kind == "openenclave")}
    runtime, inittime = _data(body, "runtimeData"), _data(body, "initTimeData")
    if runtime is not None:
        claims["x-ms-sgx-ehd"] = b64url_encode(runtime[0])
        if runtime[1]:
            claims["x-ms-runtime"] = _json_claim(runtime[0], "runtimeData")
    else:
        claims["x-ms-runtime"] = {"keys": [authority.stand_in_transfer_key()]}
    if inittime is not None and inittime[1]:
        claims["x-ms-inittime"] = _json_claim(inittime[0], "initTimeData")
    draft = body.get("draftPolicyForAttestation")
    if draft is not None and not isinstance(draft, str):
        raise _bad("draftPolicyForAttestation must be the policy text.")
    text = draft if isinstance(draft, str) and draft else _policy_text(authority, kind)
    try:
        permitted, issued = parse_policy(text).evaluate(list(claims.items()))
    except PolicyError as exc:
        raise AttestationServiceError(400, "PolicyParsingError", str(exc)) from None  # code unverified
    if not permitted:
        # Unverified code and text: the service refuses evidence its authorization rules do not permit.
        raise AttestationServiceError(400, "PolicyEvaluationError", "Attestation denied by the authorization rules.")
    policy_hash = b64url_encode(hashlib.sha256(b64url_encode(text.encode()).encode()).digest())
    token = {
        **issued,
        **claims,
        "x-ms-policy-hash": policy_hash,
        "x-ms-ver": "1.0",
        "jti": secrets.token_hex(32),
    }
    if isinstance(body.get("nonce"), str):
        token["nonce"] = body["nonce"]
    # A draft policy's result is for trying the policy out: the service answers it unsigned.
    return {"token": authority.encode_token(token, signed=not (isinstance(draft, str) and draft))}
