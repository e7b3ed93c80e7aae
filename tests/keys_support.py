"""Raw-HTTP helpers of the key wire tests: base64url as JWKs carry it, and an exact error check (importable from
every folder: tests/ is on ``pythonpath``)."""

from __future__ import annotations

import base64

from tests_support import error_of


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def assert_error(response, status: int, code: str, message: str | None = None, inner: str | None = None) -> dict:
    assert response.status_code == status, response.get_json()
    error = error_of(response)
    assert error["code"] == code
    if message is not None:
        assert error["message"] == message
    if inner is not None:
        assert error["innererror"] == {"code": inner}
    else:
        assert "innererror" not in error
    return error
