/**
 * The demo's supervisor at work (run by scripts/demo.sh after the simulator, before the summary): logs in to the
 * console as the demo city supervisor over HTTP, finds the flat-line scenario's case (suspected falsification) in
 * the review queue and confirms it (弄虚作假 confirmed, decision penalty) through the review API, as a supervisor
 * would on the case page. The console records the decision and publishes it (review.decision.v1); the analyzer's
 * stability round then counts the confirmed falsification, so that enterprise fails the positive list for it.
 * Prints `{"caseId","enterpriseId","reviewState"}`; a case that does not appear within the wait is an error.
 *
 * Usage: confirm-falsification.ts <console base URL> <credentials file> <registry> <simStart ISO> <scenario kinds>
 */
import { readFile } from 'node:fs/promises';
import { parseRegistryText, parseScenarioKinds, planRun } from '@offsite/simulator';

const [base, credentialsPath, registryPath, simStart, kinds] = process.argv.slice(2);
if (!base || !credentialsPath || !registryPath || !simStart || kinds === undefined) {
  process.stderr.write(
    'usage: confirm-falsification.ts <console base URL> <credentials file> <registry> <simStart ISO> <scenario kinds>\n',
  );
  process.exit(64);
}
const registry = parseRegistryText(await readFile(registryPath, 'utf8'), registryPath);
const flat = planRun(registry, 0, Date.parse(simStart), parseScenarioKinds(kinds)).scenarios.find(
  (s) => s.kind === 'flatline',
);
if (!flat) {
  process.stderr.write(`no flatline scenario among ${kinds}\n`);
  process.exit(1);
}
const cred = await readFile(credentialsPath, 'utf8');
const password = /^supervisor=(\S+)$/m.exec(cred)?.[1];
if (!password) {
  process.stderr.write(`no supervisor= line in ${credentialsPath}\n`);
  process.exit(78);
}

async function call<T>(
  method: string,
  path: string,
  body?: unknown,
  session?: { cookie: string; csrf: string },
) {
  const headers: Record<string, string> = {};
  if (body !== undefined) headers['content-type'] = 'application/json';
  if (session) Object.assign(headers, { cookie: session.cookie, 'x-csrf-token': session.csrf });
  const res = await fetch(new URL(path, base), {
    method,
    headers,
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    signal: AbortSignal.timeout(30_000),
  });
  if (!res.ok) throw new Error(`${method} ${path} answered ${res.status}: ${await res.text()}`);
  return { body: (await res.json()) as T, res };
}

const login = await call<{ csrfToken: string }>('POST', '/api/login', { username: 'supervisor', password });
const cookie = login.res.headers
  .getSetCookie()
  .map((c) => c.split(';')[0]!)
  .join('; ');
const session = { cookie, csrf: login.body.csrfToken };

interface Case {
  id: string;
  enterpriseId: string;
  rule: string;
  reviewState: string;
  suspectedFalsification: boolean;
}
// The alerter opens the case from the deviation; the queue shows it once it has (bounded wait).
const query = `/api/deviations?enterprise=${encodeURIComponent(flat.enterpriseId)}&rule=flatline&sort=openedAt&order=asc`;
const deadline = Date.now() + 60_000;
let found: Case | undefined;
while (!found) {
  const list = await call<{ items: Case[] }>('GET', query, undefined, session);
  found = list.body.items.find((c) => c.suspectedFalsification);
  if (found) break;
  if (Date.now() > deadline) {
    process.stderr.write(`no flatline case of ${flat.enterpriseId} in the queue after 60 s\n`);
    process.exit(1);
  }
  await new Promise((r) => setTimeout(r, 1000));
}
const done =
  found.reviewState === 'confirmed'
    ? { reviewState: found.reviewState }
    : (
        await call<{ reviewState: string }>(
          'POST',
          `/api/deviations/${encodeURIComponent(found.id)}/actions`,
          {
            action: 'confirm',
            decision: 'penalty',
            note: '经核查，恒值数据系人为干扰监测设备所致，认定弄虚作假 / on inspection, the flat line came from tampering with the analyser: falsification confirmed',
          },
          session,
        )
      ).body;
await call('POST', '/api/logout', {}, session).catch(() => undefined);
process.stdout.write(
  `${JSON.stringify({ caseId: found.id, enterpriseId: found.enterpriseId, reviewState: done.reviewState })}\n`,
);
