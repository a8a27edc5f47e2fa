// Local SMTP sink: the "real SMTP server" integration tests and the alerter benchmark send mail to.
//
// Accepts every message on loopback (AUTH optional, any credentials accepted, no TLS) and stores
// each one as a single file, <id>.eml: the raw message exactly as received, preceded by the
// delivery headers a mail server adds on local delivery (`Return-Path: <mail from>` and one
// `Delivered-To: <rcpt>` per envelope recipient). It answers 250 only once that file is durable:
// written to a dot-file, fdatasync'ed, renamed into place, and the directory fsync'ed (one
// directory fsync covers every rename done before it started, so concurrent deliveries share it).
// A reader that sees <id>.eml sees it complete. Nothing is parsed on the way in: readers parse the
// stored message (the tests use mailparser through @offsite/testing's readSinkMails).
//
// Started and stopped by `infra/bin/offsite-infra`; this is a process, not a library, so it reads
// its configuration from the environment here and nowhere else.
//
//   OFFSITE_SMTP_HOST  (default 127.0.0.1)
//   OFFSITE_SMTP_PORT  (default 52525)
//   OFFSITE_MAIL_DIR   (required: absolute directory for the .eml files)
//   OFFSITE_LOG_LEVEL  (info; `debug` logs one line per stored mail)
import { randomBytes } from 'node:crypto';
import { mkdir, open, rename } from 'node:fs/promises';
import path from 'node:path';
import { SMTPServer } from 'smtp-server';

const host = process.env.OFFSITE_SMTP_HOST || '127.0.0.1';
const port = Number(process.env.OFFSITE_SMTP_PORT || '52525');
const mailDir = process.env.OFFSITE_MAIL_DIR;
const debug = process.env.OFFSITE_LOG_LEVEL === 'debug';
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

// Directory fsyncs, coalesced: a caller waits for a sync that *started* after its rename. While
// one runs, later callers queue for the next one, which covers all of them.
let dirSyncRunning = null;
let dirSyncNext = null;
async function syncDirOnce() {
  const fh = await open(mailDir, 'r');
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }
}
function syncDir() {
  if (!dirSyncRunning) {
    dirSyncRunning = syncDirOnce().finally(() => {
      dirSyncRunning = null;
    });
    return dirSyncRunning;
  }
  if (!dirSyncNext)
    dirSyncNext = dirSyncRunning
      .catch(() => undefined)
      .then(() => {
        dirSyncNext = null;
        return syncDir();
      });
  return dirSyncNext;
}

// Envelope addresses come from smtp-server's parser; keep them on one header line each.
const headerSafe = (s) => String(s).replace(/[\r\n]/g, '');

async function store(raw, session) {
  // Sortable by arrival: UTC timestamp first, then randomness against collisions.
  const id = `${new Date().toISOString().replace(/[-:.]/g, '')}-${randomBytes(4).toString('hex')}`;
  const from = session.envelope.mailFrom ? session.envelope.mailFrom.address : '';
  const rcptTo = session.envelope.rcptTo.map((r) => r.address);
  const trace = Buffer.from(
    `Return-Path: <${headerSafe(from)}>\r\n${rcptTo.map((a) => `Delivered-To: ${headerSafe(a)}\r\n`).join('')}`,
  );
  const tmp = path.join(mailDir, `.${id}.eml.tmp`);
  const fh = await open(tmp, 'wx');
  try {
    // One writev may write less than asked (a full disk) without an error: never answer 250 for a
    // truncated mail.
    const { bytesWritten } = await fh.writev([trace, raw]);
    if (bytesWritten !== trace.length + raw.length)
      throw new Error(`short write: ${bytesWritten} of ${trace.length + raw.length} bytes`);
    await fh.datasync();
  } finally {
    await fh.close();
  }
  await rename(tmp, path.join(mailDir, `${id}.eml`));
  await syncDir();
  return { id, rcptTo };
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
      .then((stored) => {
        if (debug) log('debug', 'stored', stored);
        callback(null, `queued as ${stored.id}`);
      })
      .catch((err) => {
        log('error', 'store failed', { err: String(err) });
        // A local write failure is temporary from the client's point of view: 451, try again.
        if (!err.responseCode) err.responseCode = 451;
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
