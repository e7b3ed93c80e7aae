"""Seed files: one JSON or TOML format for vaults, secrets, keys and certificates; checked whole, then applied."""

from __future__ import annotations

import base64
import datetime
import json
import textwrap

import pytest
from azure.keyvault.certificates import CertificateClient
from azure.keyvault.keys import KeyClient
from azure.keyvault.secrets import SecretClient
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.serialization import pkcs12
from tests_support import self_signed

import kv_emulator
from kv_emulator.seed import SeedError, apply, dump, load_seed

TOML_SEED = """
version = 1

[vaults.billing]
settings = { soft_delete_retention_in_days = 7, sku = "standard" }

[vaults.billing.secrets]
api-key = "plain-shorthand"

[vaults.billing.secrets.db-password]
value = "hunter2"
content_type = "text/plain"
tags = { env = "ci" }
not_before = 2026-01-01T00:00:00Z
expires = "2030-01-01T00:00:00Z"

[vaults.billing.secrets.old]
value = "x"
enabled = false

[vaults.billing.keys.signing]
type = "EC"
curve = "P-256"
operations = ["sign", "verify"]

[vaults.billing.keys.wrapping]
type = "RSA"
size = 2048

[vaults.billing.certificates.web]
subject = "CN=web.example.com"

[vaults."https://payments.managedhsm.azure.net".keys.aes]
type = "oct-HSM"
size = 256
"""


def _write(tmp_path, name, text):
    path = tmp_path / name
    path.write_text(textwrap.dedent(text))
    return path


def _pem_key_and_pfx():
    key = ec.generate_private_key(ec.SECP256R1())
    cert = self_signed(key, "imported.example.com")
    pem_key = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()
    pem_bundle = pem_key + cert.public_bytes(serialization.Encoding.PEM).decode()
    pfx = pkcs12.serialize_key_and_certificates(b"c", key, cert, None, serialization.BestAvailableEncryption(b"pw"))
    return pem_key, pem_bundle, base64.b64encode(pfx).decode()


def test_a_toml_seed_is_what_the_sdk_reads(tmp_path):
    path = _write(tmp_path, "seed.toml", TOML_SEED)
    with kv_emulator.emulate(seed=path) as kv:
        url = "https://billing.vault.azure.net"
        secrets = SecretClient(url, kv.credential)
        secret = secrets.get_secret("db-password")
        assert (secret.value, secret.properties.content_type, secret.properties.tags) == (
            "hunter2",
            "text/plain",
            {"env": "ci"},
        )
        assert secret.properties.expires_on == datetime.datetime(2030, 1, 1, tzinfo=datetime.timezone.utc)
        assert secret.properties.not_before == datetime.datetime(2026, 1, 1, tzinfo=datetime.timezone.utc)
        assert secret.properties.recoverable_days == 7
        assert secrets.get_secret("api-key").value == "plain-shorthand"
        assert [p.enabled for p in secrets.list_properties_of_secrets() if p.name == "old"] == [False]
        keys = KeyClient(url, kv.credential)
        signing = keys.get_key("signing")
        assert (signing.key_type, signing.key.crv, signing.key_operations) == ("EC", "P-256", ["sign", "verify"])
        assert keys.get_key("wrapping").key.n is not None
        cert = CertificateClient(url, kv.credential).get_certificate("web")
        assert cert.policy.subject == "CN=web.example.com"
        hsm = KeyClient("https://payments.managedhsm.azure.net", kv.credential).get_key("aes")
        assert hsm.key_type == "oct-HSM"


def test_imports_keys_and_certificates_from_jwk_pem_and_pfx(tmp_path):
    pem_key, pem_bundle, pfx = _pem_key_and_pfx()
    document = {
        "vaults": {
            "imports": {
                "keys": {
                    "from-pem": {"pem": pem_key},
                    "from-jwk": {"jwk": {"kty": "oct-HSM", "k": base64.urlsafe_b64encode(b"k" * 32).decode()}},
                },
                "certificates": {
                    "cert-pem": {"pem": pem_bundle},
                    "from-pfx": {"pfx": pfx, "password": "pw", "tags": {"a": "b"}},
                },
            },
            "https://imports.managedhsm.azure.net": {
                "keys": {"from-jwk": {"jwk": {"kty": "oct-HSM", "k": base64.urlsafe_b64encode(b"k" * 32).decode()}}}
            },
        }
    }
    del document["vaults"]["imports"]["keys"]["from-jwk"]  # oct keys live in a Managed HSM
    path = tmp_path / "seed.json"
    path.write_text(json.dumps(document))
    with kv_emulator.emulate(seed=path) as kv:
        keys = KeyClient("https://imports.vault.azure.net", kv.credential)
        assert keys.get_key("from-pem").key.crv == "P-256"
        certificates = CertificateClient("https://imports.vault.azure.net", kv.credential)
        assert certificates.get_certificate("cert-pem").policy.subject == "CN=imported.example.com"
        assert certificates.get_certificate("from-pfx").properties.tags == {"a": "b"}
        hsm = KeyClient("https://imports.managedhsm.azure.net", kv.credential)
        assert hsm.get_key("from-jwk").key.k is None  # never returned, but it is there
        assert hsm.get_key("from-jwk").key_type == "oct-HSM"


def test_a_bad_file_names_every_problem_by_path_and_applies_nothing(tmp_path):
    path = _write(
        tmp_path,
        "seed.toml",
        """
        [vaults.billing.secrets.db-password]
        value = "hunter2"
        expires = "next tuesday"

        [vaults.billing.secrets.fine]
        value = "ok"

        [vaults.billing.keys.k]
        type = "RSA"
        size = 1024
        operations = ["sign", "fly"]

        [vaults.billing.certificates.c]
        pem = "not a pem"

        [vaults.billing.settings]
        soft_delete_retention_in_days = 3
        """,
    )
    emulator = kv_emulator.Emulator()
    with pytest.raises(SeedError) as caught:
        emulator.load(path)
    message = str(caught.value)
    assert message.startswith(f"kv-emulator seed {path}: 5 problem(s):")
    assert "vaults.billing.secrets.db-password.expires: not a date-time: 'next tuesday'" in message
    assert "vaults.billing.keys.k.size: The key_size 1024 is not valid for RSA keys; use 2048, 3072 or 4096." in message
    assert "vaults.billing.keys.k.operations: unknown operation 'fly'" in message
    assert "vaults.billing.certificates.c.pem: cannot read the certificate and its private key" in message
    assert "vaults.billing.settings: soft_delete_retention_in_days must be between 7 and 90" in message
    assert emulator.vaults == []


def test_model_rules_are_checked_for_every_vault_before_anything_is_made(tmp_path):
    document = {
        "vaults": {
            "first": {"secrets": {"a": "1"}},
            "second": {"settings": {"sku": "standard"}, "keys": {"hsm": {"type": "RSA-HSM"}, "sym": {"type": "oct"}}},
        }
    }
    emulator = kv_emulator.Emulator()
    with pytest.raises(SeedError) as caught:
        apply(emulator, load_seed(document))
    assert "vaults.second.keys.hsm: HSM keys need a premium vault" in str(caught.value)
    assert "vaults.second.keys.sym: oct (symmetric) keys exist only in a Managed HSM" in str(caught.value)
    assert emulator.vaults == []


@pytest.mark.parametrize(
    ("document", "problem"),
    [
        ({"vaults": []}, "vaults: expected a table of vaults by name"),
        ({"vault": {}}, "vault: unknown field; expected one of version, vaults"),
        ({"vaults": {"x": {}}}, "vaults.x: invalid vault name 'x'"),
        ({"vaults": {"ok-vault": {"secrets": {"bad_name": "v"}}}}, "vaults.ok-vault.secrets.bad_name: invalid name"),
        (
            {"vaults": {"ok-vault": {"secrets": {"s": {"value": 3}}}}},
            "vaults.ok-vault.secrets.s.value: required, a string",
        ),
        (
            {"vaults": {"ok-vault": {"keys": {"k": {"type": "DSA"}}}}},
            "vaults.ok-vault.keys.k.type: unknown key type 'DSA'",
        ),
        (
            {"vaults": {"ok-vault": {"keys": {"k": {"jwk": {"kty": "RSA"}}}}}},
            "vaults.ok-vault.keys.k.jwk: not a private",
        ),
        ({"vaults": {"ok-vault": {"certificates": {"c": {}}}}}, "vaults.ok-vault.certificates.c: give policy"),
        ({"vaults": {"ok-vault": {"settings": {"colour": "red"}}}}, "vaults.ok-vault.settings.colour: unknown vault"),
        ({"vaults": {"ok-vault": {"secrets": {"s": {"value": "v", "tags": {"a": 1}}}}}}, "s.tags: expected a table"),
    ],
)
def test_each_mistake_is_named(document, problem):
    with pytest.raises(SeedError) as caught:
        load_seed(document)
    assert problem in str(caught.value)


def test_unreadable_or_unknown_files_are_named(tmp_path):
    with pytest.raises(SeedError, match=r"missing.toml: 1 problem\(s\):\n  \(file\): cannot read"):
        load_seed(tmp_path / "missing.toml")
    bad = _write(tmp_path, "bad.json", "{nope")
    with pytest.raises(SeedError, match=r"\(file\): not valid JSON"):
        load_seed(bad)
    with pytest.raises(SeedError, match=r"a seed file is .json or .toml"):
        load_seed(_write(tmp_path, "seed.yaml", "a: b"))


@pytest.mark.parametrize("suffix", [".json", ".toml"])
def test_dump_writes_what_load_reads(tmp_path, suffix):
    pem_key, pem_bundle, _ = _pem_key_and_pfx()
    seed = _write(tmp_path, "seed.toml", TOML_SEED)
    with kv_emulator.emulate(seed=seed) as kv:
        vault = kv.vault("billing")
        vault.keys.import_key("imported", {"kty": "EC", **_ec_jwk(pem_key)})
        vault.certificates.import_certificate("bundle", pem_bundle)
        out = tmp_path / f"dumped{suffix}"
        kv.dump(out)
        first = dump(kv)
    again = kv_emulator.Emulator().load(out)
    second = dump(again)
    # An imported certificate's policy takes its validity from the certificate, rounded up to whole months
    # as the service does; an issued one is back-dated a little, so 12 months read back as 13.
    web = first["vaults"]["billing"]["certificates"]["web"]["policy"]["x509_props"]
    assert (
        web["validity_months"],
        second["vaults"]["billing"]["certificates"]["web"]["policy"]["x509_props"]["validity_months"],
    ) == (12, 13)
    web["validity_months"] = 13
    assert second == first
    assert first["vaults"]["billing"]["secrets"]["db-password"] == {
        "value": "hunter2",
        "content_type": "text/plain",
        "tags": {"env": "ci"},
        "not_before": "2026-01-01T00:00:00Z",
        "expires": "2030-01-01T00:00:00Z",
    }
    assert first["vaults"]["billing"]["settings"]["soft_delete_retention_in_days"] == 7
    assert first["vaults"]["payments"]["url"] == "https://payments.managedhsm.azure.net"
    assert set(first["vaults"]["billing"]["certificates"]) == {"web", "bundle"}
    with again:
        client = CertificateClient("https://billing.vault.azure.net", again.credential)
        assert client.get_certificate("bundle").policy.subject == "CN=imported.example.com"


def _ec_jwk(pem_key: str) -> dict[str, str]:
    key = serialization.load_pem_private_key(pem_key.encode(), None)
    from kv_emulator.objects.key_material import KeyMaterial

    return {k: v for k, v in KeyMaterial("EC", key).private_jwk().items() if k != "kty"}  # type: ignore[arg-type]


def test_a_generated_key_is_the_same_in_every_emulator_seeded_from_one_document(tmp_path):
    """A fixture per test applies the seed each time: its keys are made once and imported after."""
    doc = load_seed({"vaults": {"billing": {"keys": {"k": {"type": "RSA", "size": 2048, "operations": ["sign"]}}}}})
    first, second = kv_emulator.Emulator(), kv_emulator.Emulator()
    apply(first, doc)
    apply(second, doc)
    one, two = (e.vault("billing").keys.get("k") for e in (first, second))
    assert one.payload.material.private_jwk() == two.payload.material.private_jwk()
    assert (one.payload.key_ops, two.payload.key_ops) == (("sign",), ("sign",))
    assert one.version != two.version  # still each emulator's own object
    other = load_seed({"vaults": {"billing": {"keys": {"k": {"type": "RSA", "size": 2048}}}}})
    apply(third := kv_emulator.Emulator(), other)
    assert third.vault("billing").keys.get("k").payload.material.private_jwk() != one.payload.material.private_jwk()


# -- RSA requests: the seed loader applies CreateKey's own rule on the seeded host ----------------------------

_HOSTS = {"vault": "https://rsa-rules.vault.azure.net", "hsm": "https://rsa-rules.managedhsm.azure.net"}


def _seed_verdict(tmp_path, url, request):
    """None when a seed file with this key loads, else the problem it names (after the file and the key's path)."""
    body = {"type": "RSA", **{field: value for field, value in request.items() if value is not None}}
    path = tmp_path / "seed.json"
    path.write_text(json.dumps({"vaults": {url: {"keys": {"k": body}}}}))
    try:
        apply(kv_emulator.Emulator(), load_seed(path))
    except SeedError as refused:
        message = str(refused)
        assert message.startswith(f"kv-emulator seed {path}: 1 problem(s):"), message
        return message.split(f"{url}.keys.k.", 1)[1].strip()
    return None


def _create_key_verdict(wire_for, url, request):
    """None when CreateKey makes this key on ``url``, else its 400 BadParameter message, prefixed by the field
    the seed file would name, as the seed loader reports it."""
    emulator = kv_emulator.Emulator()
    emulator.create_vault(url)
    body = {"kty": "RSA", "key_size": request["size"], "public_exponent": request["public_exponent"]}
    answer = wire_for(emulator.app, base_url=url).post("/keys/k/create", body={k: v for k, v in body.items() if v})
    if answer.status_code == 200:
        return None
    assert answer.status_code == 400 and answer.get_json()["error"]["code"] == "BadParameter", answer.get_data()
    message = answer.get_json()["error"]["message"]
    return f"{'size' if 'key_size' in message else 'public_exponent'}: {message}"


@pytest.mark.parametrize("host", ["vault", "hsm"])
@pytest.mark.parametrize(
    ("size", "public_exponent"),
    [(None, None), (3072, None), (1024, None), (2048, 3), (2048, 65537), (2048, 4), (2048, 1), (2048, 2**32 + 1)],
)
def test_a_seed_file_accepts_and_refuses_the_rsa_keys_create_key_does(tmp_path, wire_for, host, size, public_exponent):
    """One rule for both: a seed key is made by CreateKey's own check on its host (issue 22). The vault ignores
    ``public_exponent`` (e is always 65537: azure-sdk-for-go#19624, 2022, and the 7.x spec says the parameter is
    for Managed HSM only); a Managed HSM takes any odd exponent."""
    request = {"size": size, "public_exponent": public_exponent}
    url = _HOSTS[host]
    assert _seed_verdict(tmp_path, url, request) == _create_key_verdict(wire_for, url, request)


def _e_of(wire_for, emulator, url):
    answer = wire_for(emulator.app, base_url=url).get("/keys/k")
    assert answer.status_code == 200, answer.get_data()
    return int.from_bytes(base64.urlsafe_b64decode(answer.get_json()["key"]["e"] + "=="), "big")


def test_an_hsm_seed_key_may_have_exponent_5_as_create_key_makes_it(tmp_path, wire_for):
    """A Managed HSM makes an RSA key with any odd public exponent it is asked for, so its seed file may ask."""
    url = _HOSTS["hsm"]
    assert _seed_verdict(tmp_path, url, {"public_exponent": 5}) is None
    emulator = kv_emulator.Emulator()
    apply(emulator, load_seed({"vaults": {url: {"keys": {"k": {"type": "RSA", "public_exponent": 5}}}}}))
    assert _e_of(wire_for, emulator, url) == 5


def test_a_vault_seed_key_with_exponent_5_is_made_as_create_key_makes_it(tmp_path, wire_for):
    """A vault's CreateKey does not refuse ``public_exponent`` 5: it ignores it and makes e = 65537
    (azure-sdk-for-go#19624, 2022). The seed loader does the same, with the same rule."""
    url = _HOSTS["vault"]
    assert _create_key_verdict(wire_for, url, {"size": None, "public_exponent": 5}) is None
    emulator = kv_emulator.Emulator()
    apply(emulator, load_seed({"vaults": {url: {"keys": {"k": {"type": "RSA", "public_exponent": 5}}}}}))
    assert _e_of(wire_for, emulator, url) == 65537


def test_a_seed_key_with_an_even_exponent_on_an_hsm_is_refused_with_create_key_s_words(tmp_path):
    path = tmp_path / "seed.json"
    path.write_text(json.dumps({"vaults": {_HOSTS["hsm"]: {"keys": {"k": {"public_exponent": 4}}}}}))
    with pytest.raises(SeedError) as refused:
        load_seed(path)
    assert str(refused.value) == (
        f"kv-emulator seed {path}: 1 problem(s):\n  vaults.{_HOSTS['hsm']}.keys.k.public_exponent: "
        "The public_exponent 4 is not supported; use an odd number from 3 to 4294967295."
    )
