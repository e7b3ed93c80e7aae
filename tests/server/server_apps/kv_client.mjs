// An application under test in JavaScript: environment variables only, the unmodified Azure SDK.
// node kv_client.mjs environment|managed|default  -> prints what it saw as JSON.
import { createRequire } from "node:module";
import { randomUUID } from "node:crypto";

const require = createRequire(process.env.KV_NODE_MODULES + "/");
const { SecretClient } = require("@azure/keyvault-secrets");
const { KeyClient, CryptographyClient } = require("@azure/keyvault-keys");
const identity = require("@azure/identity");

const kind = process.argv[2];
const credential = {
  environment: () => new identity.EnvironmentCredential(),
  managed: () => new identity.ManagedIdentityCredential(),
  default: () => new identity.DefaultAzureCredential(),
}[kind]();
const url = process.env.AZURE_KEYVAULT_URL;
const name = "node-" + randomUUID().slice(0, 8);

const secrets = new SecretClient(url, credential);
await secrets.setSecret(name, "from-node");
const secret = await secrets.getSecret(name);
const key = await new KeyClient(url, credential).createRsaKey(name, { keySize: 2048 });
const crypto = new CryptographyClient(key, credential);
const encrypted = await crypto.encrypt({ algorithm: "RSA-OAEP", plaintext: Buffer.from("payload") });
const decrypted = await crypto.decrypt({ algorithm: "RSA-OAEP", ciphertext: encrypted.result });
console.log(JSON.stringify({ name, secret: secret.value, secretId: secret.properties.id, decrypted: Buffer.from(decrypted.result).toString() }));
