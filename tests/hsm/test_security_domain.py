"""A Managed HSM's security domain (download, transfer key, upload) and its activation.

Evidence: the azure-keyvault-securitydomain 1.0.0b4 client (its pollers: the download answers the file at once
with ``Azure-AsyncOperation`` to ``/securitydomain/download/pending``, which says ``InProgress`` and then
``Success``; its live test, 2025, reads ``inprogress`` right after a download and ``json.loads`` the transfer
key); the format the Azure CLI and that package's test helpers (wrapping.py, jwe.py, utils.py) read and write,
re-implemented independently in ``security_domain_client.py``; "minimum 3 and maximum 10" certificates (the
client's docstring). The status, code and text of a refusal before activation are not recorded (unverified).
"""

from __future__ import annotations

import asyncio
import json

import pytest
from azure.core.exceptions import HttpResponseError
from azure.keyvault.keys import KeyClient
from azure.keyvault.securitydomain import SecurityDomainClient
from azure.keyvault.securitydomain.aio import SecurityDomainClient as AsyncSecurityDomainClient
from azure.keyvault.securitydomain.models import CertificateInfo, SecurityDomainJsonWebKey
from security_domain_client import (
    certificate_jwk,
    make_wrapping_key,
    open_security_domain,
    restore_blob,
    transfer_certificate,
)
from tests_support import error_of

HSM = "https://new-hsm.managedhsm.azure.net"


@pytest.fixture(scope="module")
def wrapping_keys():
    return [make_wrapping_key(f"sd-{index}") for index in range(3)]


@pytest.fixture
def new_hsm(keyvault):
    """A new, provisioned Managed HSM: not activated until its security domain is downloaded."""
    return keyvault.managed_hsm(HSM, activated=False)


@pytest.fixture
def wire(keyvault, wire_for):
    return wire_for(keyvault.app, base_url=HSM)


def _request(wrapping_keys, required: int = 2) -> dict:
    return {"certificates": [certificate_jwk(certificate) for _, certificate in wrapping_keys], "required": required}


def _info(wrapping_keys, required: int = 2) -> CertificateInfo:
    jwks = [SecurityDomainJsonWebKey(certificate_jwk(certificate)) for _, certificate in wrapping_keys]
    return CertificateInfo(certificates=jwks, required=required)


# -- activation ------------------------------------------------------------------------------------------


def test_hsms_made_on_first_use_start_activated(keyvault):
    key = KeyClient("https://used-at-once.managedhsm.azure.net", keyvault.credential).create_rsa_key("k")
    assert key.id and keyvault.vault("https://used-at-once.managedhsm.azure.net").activated


def test_a_new_hsm_answers_only_its_security_domain_until_activated(new_hsm, wire, wrapping_keys, keyvault):
    assert not new_hsm.activated
    refused = wire.get("/keys", api_version="7.5")
    assert refused.status_code == 403
    error = error_of(refused)
    assert error["code"] == "Forbidden" and "not activated" in error["message"]  # unverified text
    assert wire.get("/securitydomain/upload", api_version="7.5").status_code == 200
    assert wire.post("/securitydomain/download", body=_request(wrapping_keys), api_version="7.5").status_code == 202
    assert wire.get("/keys", api_version="7.5").status_code == 403  # still activating
    keyvault.clock.advance(seconds=2)
    assert new_hsm.activated
    assert wire.get("/keys", api_version="7.5").status_code == 200


def test_the_sdk_key_client_is_refused_before_activation(new_hsm, keyvault):
    with pytest.raises(HttpResponseError) as refused:
        KeyClient(HSM, keyvault.credential).create_rsa_key("k")
    assert refused.value.status_code == 403


def test_the_status_before_any_download(new_hsm, wire, keyvault):
    """Unverified: what the service reports before a download is not recorded; an HSM made activated reports
    the download that activated it as done."""
    assert wire.get("/securitydomain/download/pending", api_version=None).get_json()["status"] == "Failed"
    keyvault.managed_hsm("made-activated")
    activated = type(wire)(keyvault.app, base_url="https://made-activated.managedhsm.azure.net")
    assert activated.get("/securitydomain/download/pending", api_version=None).get_json()["status"] == "Success"


def test_a_vault_can_be_made_new_again(keyvault):
    hsm = keyvault.managed_hsm("again")
    assert hsm.activated
    hsm.deactivate()
    assert not hsm.activated
    assert keyvault.vault().activated  # a vault has no security domain: always activated


# -- download --------------------------------------------------------------------------------------------


def test_the_download_answers_the_file_at_once_and_polls_the_activation(new_hsm, wire, wrapping_keys, keyvault):
    started = wire.post("/securitydomain/download", body=_request(wrapping_keys), api_version="7.5")
    assert started.status_code == 202
    assert started.headers["Azure-AsyncOperation"] == f"{HSM}/securitydomain/download/pending"
    body = started.get_json()
    assert set(body) == {"value"} and isinstance(body["value"], str)
    document = json.loads(body["value"])
    assert document["SharedKeys"]["required"] == 2 and len(document["SharedKeys"]["enc_shares"]) == 3
    assert document["EncData"]["kdf"] == "sp108_kdf"
    pending = wire.get("/securitydomain/download/pending", api_version=None)  # the poller sends no api-version
    assert pending.get_json() == {"status": "InProgress", "status_details": None}
    keyvault.clock.advance(seconds=2)
    assert wire.get("/securitydomain/download/pending", api_version=None).get_json()["status"] == "Success"


@pytest.mark.parametrize("quorum", [(0, 1), (1, 2), (0, 2)])
def test_any_quorum_of_the_wrapping_keys_opens_the_file(new_hsm, wire, wrapping_keys, quorum):
    response = wire.post("/securitydomain/download", body=_request(wrapping_keys), api_version="7.5")
    document = json.loads(response.get_json()["value"])
    master, contents = open_security_domain(document, [wrapping_keys[index] for index in quorum])
    assert len(master) == 32
    assert [tag for _, tag in contents] == ["mhsm-security-domain"]
    assert json.loads(contents[0][0])["domain"] == new_hsm.security_domain.domain_id


def test_the_sdk_downloads_and_activates_without_real_waits(new_hsm, wrapping_keys, keyvault, no_real_sleep):
    client = SecurityDomainClient(HSM, keyvault.credential)
    security_domain = client.begin_download(certificate_info=_info(wrapping_keys)).result()
    assert client.get_download_status().status == "Success"
    _, contents = open_security_domain(json.loads(security_domain.value), wrapping_keys[:2])
    assert contents
    assert KeyClient(HSM, keyvault.credential).create_rsa_key("now-usable").name == "now-usable"


def test_skipping_the_activation_poll_sees_it_in_progress(new_hsm, wrapping_keys, keyvault):
    """As the SDK's live test: ``skip_activation_polling=True``, then the status is ``inprogress`` (2025)."""
    client = SecurityDomainClient(HSM, keyvault.credential)
    assert client.begin_download(certificate_info=_info(wrapping_keys), skip_activation_polling=True).result().value
    assert client.get_download_status().status.lower() == "inprogress"


def test_the_async_sdk_downloads(new_hsm, wrapping_keys, keyvault, no_real_sleep):
    async def run():
        async with AsyncSecurityDomainClient(HSM, keyvault.async_credential) as client:
            poller = await client.begin_download(certificate_info=_info(wrapping_keys, required=3))
            return await poller.result()

    document = json.loads(asyncio.run(run()).value)
    assert document["SharedKeys"]["required"] == 3
    assert new_hsm.activated


@pytest.mark.parametrize(
    ("change", "why"),
    [
        (lambda body: body.update(certificates=body["certificates"][:2]), "fewer than 3 certificates"),
        (lambda body: body.update(required=1), "a quorum of 1"),
        (lambda body: body.update(required=4), "a quorum above the certificates"),
        (lambda body: body["certificates"][0].update(x5c=["bm90IGEgY2VydA=="]), "an x5c that is no certificate"),
        (lambda body: body["certificates"][1].pop("x5c"), "no x5c"),
    ],
)
def test_a_bad_download_request_is_a_400(new_hsm, wire, wrapping_keys, change, why):
    body = _request(wrapping_keys)
    change(body)
    response = wire.post("/securitydomain/download", body=body, api_version="7.5")
    assert response.status_code == 400, why
    assert error_of(response)["code"] == "BadParameter"
    assert not new_hsm.activated


# -- upload ----------------------------------------------------------------------------------------------


def test_a_domain_uploaded_to_a_recovery_hsm_restores_the_first_hsms_backup(
    new_hsm, wrapping_keys, keyvault, no_real_sleep
):
    from azure.keyvault.administration import KeyVaultBackupClient

    SecurityDomainClient(HSM, keyvault.credential).begin_download(certificate_info=_info(wrapping_keys)).result()
    KeyClient(HSM, keyvault.credential).create_rsa_key("precious")
    container, sas = "https://account.blob.core.windows.net/c", "sp=rwl&sig=s"
    folder = KeyVaultBackupClient(HSM, keyvault.credential).begin_backup(container, sas_token=sas).result().folder_url
    document = json.loads(
        SecurityDomainClient(HSM, keyvault.credential)
        .begin_download(certificate_info=_info(wrapping_keys))
        .result()
        .value
    )

    recovery = "https://recovery-hsm.managedhsm.azure.net"
    keyvault.managed_hsm(recovery, activated=False)
    client = SecurityDomainClient(recovery, keyvault.credential)
    transfer_key = json.loads(str(client.get_transfer_key().transfer_key))
    assert transfer_key["kty"] == "RSA" and transfer_key["x5c"]
    _, contents = open_security_domain(document, wrapping_keys[1:])
    assert (
        client.begin_upload(
            security_domain={"value": restore_blob(contents, transfer_certificate(transfer_key))}
        ).result()
        is None
    )
    assert client.get_upload_status().status == "Success"
    KeyVaultBackupClient(recovery, keyvault.credential).begin_restore(folder, sas_token=sas).wait()
    assert KeyClient(recovery, keyvault.credential).get_key("precious").name == "precious"


def test_an_upload_wrapped_to_another_key_is_a_400(keyvault, wire, wrapping_keys):
    keyvault.managed_hsm(HSM, activated=False)
    donor = keyvault.managed_hsm("donor")
    donor_wire = type(wire)(keyvault.app, base_url=donor.url)
    document = json.loads(
        donor_wire.post("/securitydomain/download", body=_request(wrapping_keys), api_version="7.5").get_json()["value"]
    )
    _, contents = open_security_domain(document, wrapping_keys[:2])
    other_transfer = json.loads(donor_wire.get("/securitydomain/upload", api_version="7.5").get_json()["transfer_key"])
    blob = restore_blob(contents, transfer_certificate(other_transfer))  # the donor's transfer key, not this HSM's
    response = wire.post("/securitydomain/upload", body={"value": blob}, api_version="7.5")
    assert response.status_code == 400 and error_of(response)["code"] == "BadParameter"
    assert wire.post("/securitydomain/upload", body={"value": "{}"}, api_version="7.5").status_code == 400


def test_an_upload_to_an_activated_hsm_is_refused(keyvault, wire):
    keyvault.managed_hsm(HSM)
    response = wire.post("/securitydomain/upload", body={"value": "{}"}, api_version="7.5")
    assert response.status_code == 409 and error_of(response)["code"] == "Conflict"  # unverified


def test_the_state_is_plain_json(new_hsm):
    state = json.loads(json.dumps(new_hsm.security_domain.to_state()))
    new_hsm.security_domain.from_state({**state, "activated": True})
    assert new_hsm.activated and new_hsm.security_domain.domain_id == state["domain_id"]
