// The one message shape the alerter sends, built directly into one buffer: multipart/alternative
// with a UTF-8 text and an HTML part, base64 bodies (Chinese text: base64 is shorter than
// quoted-printable) and RFC 2047 encoded words for non-ASCII header text. nodemailer's
// MailComposer built the same message through a tree of streams at several times the CPU per mail,
// the largest cost of the send stage; the SMTP pool stays nodemailer's.
import { randomBytes } from 'node:crypto';

export interface MimeMessage {
  from: { address: string; name?: string };
  to: { address: string; name?: string };
  subject: string;
  text: string;
  html: string;
  /** With angle brackets. */
  messageId: string;
  date?: Date;
  /** Extra header fields (ASCII names; values encoded like the subject when not ASCII). */
  headers?: Record<string, string>;
}

const ASCII_PRINTABLE = /^[\x20-\x7e]*$/;
const CRLF = '\r\n';

/** Header text without line breaks (a value can never start a new header field). */
const oneLine = (s: string) => s.replace(/[\r\n]+/g, ' ');

/**
 * RFC 2047 B-encoded words of at most 39 UTF-8 bytes each (52 base64 characters, 64 with the
 * wrapper: a first line with a header name of up to 14 characters stays within 78), split
 * between characters, joined by folding whitespace.
 */
export function encodeWords(value: string): string {
  const s = oneLine(value);
  // Plain ASCII goes as it is while its line stays far below the 998-character limit (RFC 5322
  // §2.1.1); a longer value is folded through encoded words like non-ASCII text.
  if (s.length <= 900 && ASCII_PRINTABLE.test(s)) return s;
  const words: string[] = [];
  let chunk = '';
  let bytes = 0;
  for (const ch of s) {
    const n = Buffer.byteLength(ch);
    if (bytes + n > 39) {
      words.push(`=?UTF-8?B?${Buffer.from(chunk).toString('base64')}?=`);
      chunk = '';
      bytes = 0;
    }
    chunk += ch;
    bytes += n;
  }
  if (chunk) words.push(`=?UTF-8?B?${Buffer.from(chunk).toString('base64')}?=`);
  return words.join(`${CRLF} `);
}

/** An address with an optional display name: encoded words, or a quoted string when ASCII. */
export function formatAddress(a: { address: string; name?: string }): string {
  const address = oneLine(a.address).replace(/[<>\s]/g, '');
  if (!a.name) return address;
  const name = oneLine(a.name);
  const display =
    name.length <= 900 && ASCII_PRINTABLE.test(name)
      ? `"${name.replace(/(["\\])/g, '\\$1')}"`
      : encodeWords(name);
  return `${display} <${address}>`;
}

/** RFC 5322 date-time in UTC, e.g. `Sun, 29 Nov 2026 11:41:55 +0000`. */
const rfc5322Date = (d: Date) => d.toUTCString().replace(/GMT$/, '+0000');

/** Base64 body lines of 76 characters. */
function base64Lines(s: string): string {
  const b = Buffer.from(s, 'utf8').toString('base64');
  let out = '';
  for (let i = 0; i < b.length; i += 76) out += b.slice(i, i + 76) + CRLF;
  return out;
}

/** `Name: value`, the address of a long `Name: display <address>` moved to a folded line. */
function addressField(name: string, a: { address: string; name?: string }): string {
  const line = `${name}: ${formatAddress(a)}`;
  const lastLine = line.slice(line.lastIndexOf('\n') + 1);
  if (lastLine.length <= 78) return line;
  const at = line.lastIndexOf(' <');
  return at < 0 ? line : `${line.slice(0, at)}${CRLF}${line.slice(at)}`;
}

/** The whole message, CRLF line ends, ready to hand to an SMTP connection. */
export function buildMime(m: MimeMessage): Buffer {
  const boundary = `=_offsite_${randomBytes(12).toString('hex')}`;
  const head = [
    addressField('From', m.from),
    addressField('To', m.to),
    `Subject: ${encodeWords(m.subject)}`,
    `Message-ID: ${oneLine(m.messageId)}`,
    `Date: ${rfc5322Date(m.date ?? new Date())}`,
    'MIME-Version: 1.0',
    ...Object.entries(m.headers ?? {}).map(
      ([k, v]) => `${k.replace(/[^\x21-\x39\x3b-\x7e]/g, '')}: ${encodeWords(v)}`,
    ),
    `Content-Type: multipart/alternative;${CRLF} boundary="${boundary}"`,
  ].join(CRLF);
  const part = (type: string, body: string) =>
    `--${boundary}${CRLF}Content-Type: ${type}; charset=utf-8${CRLF}` +
    `Content-Transfer-Encoding: base64${CRLF}${CRLF}${base64Lines(body)}`;
  return Buffer.from(
    `${head}${CRLF}${CRLF}${part('text/plain', m.text)}${part('text/html', m.html)}--${boundary}--${CRLF}`,
    'utf8',
  );
}
