// Regenerates Mosquitto's password and ACL files from the registry and reloads the broker.
//   set -a; . .offsite/env; set +a; npm run acl -w @offsite/mqtt-ingestor
// Env: OFFSITE_PG_URL, OFFSITE_PG_SCHEMA (default public), OFFSITE_MOSQUITTO_PASSWD_FILE,
// OFFSITE_MOSQUITTO_ACL_FILE, OFFSITE_MQTT_USERNAME (service account), OFFSITE_MQTT_CREDENTIALS_FILE
// (default <repo>/.offsite/mqtt/enterprise-credentials.json), OFFSITE_MQTT_RELOAD (default 1).
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { createPgPool, loadRegistrySnapshot } from '@offsite/store';
import { writeMosquittoAuth } from '../src/acl.js';

const repo = fileURLToPath(new URL('../../../', import.meta.url));
const need = (name: string): string => {
  const v = process.env[name];
  if (!v) {
    process.stderr.write(`${name} is not set (source .offsite/env)\n`);
    process.exit(78);
  }
  return v;
};
const schema = process.env.OFFSITE_PG_SCHEMA || 'public';
const pool = createPgPool({ url: need('OFFSITE_PG_URL'), schema, max: 1 });
try {
  const snapshot = await loadRegistrySnapshot(pool);
  const result = await writeMosquittoAuth({
    passwordFile: need('OFFSITE_MOSQUITTO_PASSWD_FILE'),
    aclFile: need('OFFSITE_MOSQUITTO_ACL_FILE'),
    serviceUsername: need('OFFSITE_MQTT_USERNAME'),
    credentialsFile:
      process.env.OFFSITE_MQTT_CREDENTIALS_FILE || `${repo}.offsite/mqtt/enterprise-credentials.json`,
    enterpriseIds: snapshot.enterprises.map((e) => e.id),
  });
  if ((process.env.OFFSITE_MQTT_RELOAD ?? '1') !== '0') {
    await promisify(execFile)('bash', [`${repo}infra/bin/offsite-infra`, 'mqtt-reload'], { cwd: repo });
  }
  process.stdout.write(`wrote Mosquitto users and ACLs for ${result.enterprises} enterprises\n`);
} finally {
  await pool.end();
}
