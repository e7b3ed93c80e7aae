// Secure key release as the JavaScript SDK's Managed HSM sample does it (keyvault-keys samples/v4
// hsmOperations + attestationUtils, 2025), with the unmodified SDK: set an OpenEnclave attestation policy
// that issues "sdk-test", attest an enclave report, create an exportable HSM key whose release policy asks
// for that claim, release it with the attestation token. Also the sample's oct key, key attestation and
// random bytes.
// Prints what it saw as JSON.
import { createRequire } from "node:module";
import { randomUUID } from "node:crypto";

const require = createRequire(process.env.KV_NODE_MODULES + "/");
const { KeyClient } = require("@azure/keyvault-keys");
const { AttestationAdministrationClient, AttestationClient, KnownAttestationType } = require("@azure/attestation");
const { DefaultAzureCredential } = require("@azure/identity");

const credential = new DefaultAzureCredential();
const authority = process.env.AZURE_KEYVAULT_ATTESTATION_PROVIDER_URL;
const report = Buffer.from(process.env.KV_ENCLAVE_REPORT, "base64url");
const hsm = new KeyClient(process.env.AZURE_MANAGEDHSM_URI, credential);
const suffix = randomUUID().slice(0, 8);

const oct = await hsm.createOctKey(`oct-${suffix}`, { hsm: true });
const random = await hsm.getRandomBytes(10);
const attestName = `attest-${suffix}`;
await hsm.createRsaKey(attestName, { hsm: true });
const latest = await hsm.getKeyAttestation(attestName);
const specific = await hsm.getKeyAttestation(attestName, { version: latest.properties.version });

const releasePolicy = {
  anyOf: [{ anyOf: [{ claim: "sdk-test", equals: "true" }], authority }],
  version: "1.0.0",
};
const name = `release-${suffix}`;
const key = await hsm.createRsaKey(name, {
  exportable: true,
  hsm: true,
  keyOps: ["encrypt", "decrypt"],
  releasePolicy: { encodedPolicy: new TextEncoder().encode(JSON.stringify(releasePolicy)) },
});

const admin = new AttestationAdministrationClient(authority, credential);
const policy = await admin.setPolicy(
  KnownAttestationType.OpenEnclave,
  'version=1.0; authorizationrules{=> permit();}; issuancerules{=> issue(type="sdk-test", value="true");};',
);
const attestation = await new AttestationClient(authority, credential).attestOpenEnclave(report);
const token = attestation.token.serialize();
const released = await hsm.releaseKey(name, token);

console.log(
  JSON.stringify({
    octKty: oct.keyType,
    randomBytes: random.length,
    keyAttestation: [latest.properties.attestation?.version, specific.properties.attestation?.version],
    policyResolution: policy.body.policyResolution,
    mrSigner: attestation.body.mrSigner,
    keyId: key.id,
    token,
    released: released.value,
  }),
);
