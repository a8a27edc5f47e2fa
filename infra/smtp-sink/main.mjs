// Local SMTP sink: the "real SMTP server" integration tests send mail to.
//
// Accepts every message on loopback (AUTH optional, any credentials accepted, no TLS) and stores it
// as <id>.eml (the raw message) and <id>.json (envelope + parsed headers and bodies) in the mail
// directory. The .json file is renamed into place last, so a reader that sees it sees both files
// complete. Started and stopped by `infra/bin/offsite-infra`; this is a process, not a library, so
// it reads its configuration from the environment here and nowhere else.
//
//   OFFSITE_SMTP_HOST  (default 127.0.0.1)
//   OFFSITE_SMTP_PORT  (default 22525)
//   OFFSITE_MAIL_DIR   (required: absolute directory for .eml/.json files)
import { randomBytes } from 'node:crypto';
import { renameSync, writeFileSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { simpleParser } from 'mailparser';
import { SMTPServer } from 'smtp-server';

const host = process.env.OFFSITE_SMTP_HOST || '127.0.0.1';
const port = Number(process.env.OFFSITE_SMTP_PORT || '22525');
const mailDir = process.env.OFFSITE_MAIL_DIR;
if (!mailDir || !path.isAbsolute(mailDir)) {
  process.stderr.write('smtp-sink: OFFSITE_MAIL_DIR must be set to an absolute directory\n');
  process.exit(2);
}
if (!Number.isInteger(port) || port <= 0 || port > 65535) {
  process.stderr.write(`smtp-sink: OFFSITE_SMTP_PORT is not a port: ${process.env.OFFSITE_SMTP_PORT}\n`);
  process.exit(2);
}

const log = (level, msg, extra = {}) =>
  process.stdout.write(`${JSON.stringify({ time: new Date().toISOString(), level, msg, ...extra })}\n`);

await mkdir(mailDir, { recursive: true });

/** Collects a readable stream into one Buffer. */
async function readAll(stream) {
  const chunks = [];
  for await (const chunk of stream) chunks.push(chunk);
  return Buffer.concat(chunks);
}

const addressList = (a) =>
  a ? (Array.isArray(a) ? a : [a]).flatMap((x) => x.value.map((v) => v.address)) : [];

async function store(raw, session) {
  // Sortable by arrival: UTC timestamp first, then randomness against collisions.
  const id = `${new Date().toISOString().replace(/[-:.]/g, '')}-${randomBytes(4).toString('hex')}`;
  // Every mail is parsed for real; the conversions nobody reads (HTML → text when a text part
  // exists, text → HTML, link detection) are skipped: they were most of the sink's CPU.
  const parsed = await simpleParser(raw, { skipHtmlToText: true, skipTextToHtml: true, skipTextLinks: true });
  const record = {
    id,
    receivedAt: new Date().toISOString(),
    envelope: {
      mailFrom: session.envelope.mailFrom ? session.envelope.mailFrom.address : null,
      rcptTo: session.envelope.rcptTo.map((r) => r.address),
    },
    authUser: session.user ?? null,
    messageId: parsed.messageId ?? null,
    date: parsed.date ? parsed.date.toISOString() : null,
    from: addressList(parsed.from),
    to: addressList(parsed.to),
    cc: addressList(parsed.cc),
    subject: parsed.subject ?? null,
    text: parsed.text ?? null,
    html: typeof parsed.html === 'string' ? parsed.html : null,
    headers: Object.fromEntries(
      [...parsed.headers].map(([k, v]) => [
        k,
        typeof v === 'object' && v !== null && 'text' in v ? v.text : v,
      ]),
    ),
    attachments: parsed.attachments.map((a) => ({
      filename: a.filename ?? null,
      contentType: a.contentType,
      size: a.size,
    })),
    eml: `${id}.eml`,
  };
  // Small files: synchronous writes cost less than three trips through the libuv thread pool each.
  writeFileSync(path.join(mailDir, `${id}.eml`), raw);
  const tmp = path.join(mailDir, `.${id}.json.tmp`);
  writeFileSync(tmp, `${JSON.stringify(record, null, 2)}\n`);
  renameSync(tmp, path.join(mailDir, `${id}.json`));
  return record;
}

const server = new SMTPServer({
  name: 'offsite-smtp-sink',
  banner: 'Offsite SMTP sink (test only)',
  secure: false,
  disabledCommands: ['STARTTLS'],
  authOptional: true,
  authMethods: ['PLAIN', 'LOGIN'],
  allowInsecureAuth: true,
  size: 25 * 1024 * 1024,
  logger: false,
  onAuth(auth, _session, callback) {
    callback(null, { user: auth.username });
  },
  onData(stream, session, callback) {
    readAll(stream)
      .then((raw) => {
        if (stream.sizeExceeded) {
          const err = new Error('message exceeds the size limit');
          err.responseCode = 552;
          throw err;
        }
        return store(raw, session);
      })
      .then((record) => {
        log('info', 'stored', { id: record.id, to: record.envelope.rcptTo, subject: record.subject });
        callback(null, `queued as ${record.id}`);
      })
      .catch((err) => {
        log('error', 'store failed', { err: String(err) });
        callback(err);
      });
  },
});

server.on('error', (err) => log('error', 'server error', { err: String(err) }));

let closing = false;
const shutdown = (signal) => {
  if (closing) process.exit(1);
  closing = true;
  log('info', 'shutting down', { signal });
  const timer = setTimeout(() => process.exit(1), 5000);
  timer.unref();
  server.close(() => process.exit(0));
};
process.on('SIGTERM', () => shutdown('SIGTERM'));
process.on('SIGINT', () => shutdown('SIGINT'));

server.listen(port, host, () => log('info', 'listening', { host, port, mailDir }));
