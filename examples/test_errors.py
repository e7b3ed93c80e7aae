"""Errors: the SDK raises the same exceptions, with the same codes, as against the real service.

Run with ``python -m pytest examples/test_errors.py``. The body of every error is Key Vault's
``{"error": {"code", "message", "innererror"?}}``; azure-core exposes it as ``exc.error``.
"""

from __future__ import annotations

import pytest
from azure.core.exceptions import HttpResponseError, ResourceExistsError, ResourceNotFoundError
from azure.keyvault.secrets import SecretClient


@pytest.fixture
def client(keyvault) -> SecretClient:
    return SecretClient(keyvault.vault_url, keyvault.credential)


def test_a_missing_secret(client):
    with pytest.raises(ResourceNotFoundError) as missing:
        client.get_secret("no-such-secret")
    error = missing.value.error
    assert missing.value.status_code == 404
    assert error is not None and error.code == "SecretNotFound"
    assert error.message.startswith("A secret with (name/id) no-such-secret was not found in this key vault.")


def test_a_disabled_secret_cannot_be_read(client):
    client.set_secret("retired", "old", enabled=False)
    with pytest.raises(HttpResponseError) as refused:
        client.get_secret("retired")
    error = refused.value.error
    assert refused.value.status_code == 403
    assert error is not None and error.code == "Forbidden"
    assert error.innererror == {"code": "SecretDisabled"}
    assert error.message == "Operation get is not allowed on a disabled secret."


def test_a_deleted_name_cannot_be_reused_until_recovered_or_purged(client):
    client.set_secret("reused", "1")
    client.begin_delete_secret("reused").wait()
    with pytest.raises(ResourceExistsError) as conflict:  # 409 maps to ResourceExistsError
        client.set_secret("reused", "2")
    error = conflict.value.error
    assert error is not None and error.code == "Conflict"
    assert error.innererror == {"code": "ObjectIsDeletedButRecoverable"}

    client.purge_deleted_secret("reused")
    assert client.set_secret("reused", "2").value == "2"


def test_bad_parameters(client):
    with pytest.raises(HttpResponseError) as bad_name:
        client.set_secret("not_a_valid_name", "x")
    assert bad_name.value.status_code == 400
    assert bad_name.value.error is not None and bad_name.value.error.code == "BadParameter"
    assert bad_name.value.error.message == "The request URI contains an invalid name: not_a_valid_name"

    with pytest.raises(HttpResponseError) as too_large:
        client.set_secret("big", "x" * 25_601)
    assert too_large.value.error is not None and too_large.value.error.innererror == {"code": "SecretTooLarge"}

    with pytest.raises(HttpResponseError) as too_many_tags:
        client.set_secret("tagged", "x", tags={f"t{i}": "v" for i in range(16)})
    assert too_many_tags.value.error is not None and too_many_tags.value.error.code == "BadParameter"


def test_a_backup_from_elsewhere_is_refused(client):
    with pytest.raises(HttpResponseError) as invalid:
        client.restore_secret_backup(b"not a backup blob")
    assert invalid.value.status_code == 400
    assert invalid.value.error is not None and invalid.value.error.code == "Malformed backup blob"


def test_the_journal_records_errors_too(keyvault, client):
    with pytest.raises(ResourceNotFoundError):
        client.get_secret("nope")
    [entry] = keyvault.requests.filter("GetSecret")
    assert (entry.status, entry.error_code) == (404, "SecretNotFound")
    assert keyvault.requests.internal_errors() == []  # only emulator bugs (500s), not service errors
