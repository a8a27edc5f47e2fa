// The SMTP sink's inbox read back (infra/smtp-sink: one <id>.eml per accepted message, the raw
// message after the sink's `Return-Path` and `Delivered-To` lines). The sink parses nothing; the
// tests parse here, with mailparser, off the sink's hot path. Stored files never change once renamed
// into place, so what was read or parsed is cached per path and a poll only reads new files.
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';

/** What a cheap scan of the header block gives, without a MIME parse. */
export interface SinkHead {
  file: string;
  /**
   * Envelope recipients, from the sink's `Delivered-To` lines (for a mail stored by an older sink
   * without them: the addresses in the To header).
   */
  recipients: string[];
  /** The Message-ID header as sent, angle brackets included. */
  messageId: string | null;
}

/** A stored mail parsed with mailparser. */
export interface SinkMail extends SinkHead {
  /** Addresses of the To header. */
  to: string[];
  subject: string | null;
  text: string | null;
  html: string | null;
  /** Lower-case header name → value (structured headers as their text). */
  headers: Record<string, unknown>;
}

const heads = new Map<string, SinkHead>();
const parsed = new Map<string, SinkMail>();

/** Header fields of a raw message (unfolded, names lower-cased), up to the first empty line. */
export function scanHeaders(raw: Buffer): Map<string, string[]> {
  let end = raw.indexOf('\r\n\r\n');
  if (end < 0) end = raw.length;
  const out = new Map<string, string[]>();
  for (const line of raw
    .subarray(0, end)
    .toString('utf8')
    .replace(/\r\n[ \t]+/g, ' ')
    .split('\r\n')) {
    const colon = line.indexOf(':');
    if (colon <= 0) continue;
    const name = line.slice(0, colon).trim().toLowerCase();
    out.set(name, [...(out.get(name) ?? []), line.slice(colon + 1).trim()]);
  }
  return out;
}

async function head(file: string): Promise<{ head: SinkHead; raw?: Buffer } | undefined> {
  const known = heads.get(file);
  if (known) return { head: known };
  let raw: Buffer;
  try {
    raw = await readFile(file);
  } catch {
    return undefined; // removed meanwhile (another test's clean-up)
  }
  const h = scanHeaders(raw);
  const got: SinkHead = {
    file,
    recipients:
      h.get('delivered-to') ??
      [...(h.get('to')?.join(',') ?? '').matchAll(/[^\s<>",]+@[^\s<>",]+/g)].map((x) => x[0]),
    messageId: h.get('message-id')?.[0] ?? null,
  };
  heads.set(file, got);
  return { head: got, raw };
}

/** Every stored mail's envelope recipients and Message-ID (no MIME parse). */
export async function readSinkHeads(dir: string): Promise<SinkHead[]> {
  const out: SinkHead[] = [];
  for (const f of (await readdir(dir)).sort()) {
    // Dot-files are being written; the sink renames each into place once it is complete.
    if (!f.endsWith('.eml') || f.startsWith('.')) continue;
    const h = await head(path.join(dir, f));
    if (h) out.push(h.head);
  }
  return out;
}

const addresses = (a: unknown): string[] =>
  a
    ? (Array.isArray(a) ? a : [a]).flatMap((x: { value: { address?: string }[] }) =>
        x.value.map((v) => v.address ?? ''),
      )
    : [];

/**
 * The stored mails `keep` selects (by envelope recipient or Message-ID), parsed with mailparser,
 * in arrival order.
 */
export async function readSinkMails(dir: string, keep: (h: SinkHead) => boolean): Promise<SinkMail[]> {
  const { simpleParser } = await import('mailparser');
  const out: SinkMail[] = [];
  for (const f of (await readdir(dir)).sort()) {
    if (!f.endsWith('.eml') || f.startsWith('.')) continue;
    const file = path.join(dir, f);
    const done = parsed.get(file);
    if (done) {
      if (keep(done)) out.push(done);
      continue;
    }
    const h = await head(file);
    if (!h || !keep(h.head)) continue;
    const raw = h.raw ?? (await readFile(file));
    const m = await simpleParser(raw, { skipHtmlToText: true, skipTextToHtml: true, skipTextLinks: true });
    const mail: SinkMail = {
      ...h.head,
      to: addresses(m.to),
      subject: m.subject ?? null,
      text: m.text ?? null,
      html: typeof m.html === 'string' ? m.html : null,
      headers: Object.fromEntries(
        [...m.headers].map(([k, v]) => [k, typeof v === 'object' && v !== null && 'text' in v ? v.text : v]),
      ),
    };
    parsed.set(file, mail);
    out.push(mail);
  }
  return out;
}
