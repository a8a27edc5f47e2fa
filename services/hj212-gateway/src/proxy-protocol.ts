// The PROXY protocol (HAProxy's specification, versions 1 and 2): a load balancer in TCP mode puts one
// header naming the client's address before the client's bytes. The gateway reads it only on
// connections from its configured trusted proxies (OFFSITE_HJ212_TRUSTED_PROXIES), so a logger cannot
// claim another address; everyone else's bytes are HJ 212 as always.
import net from 'node:net';

export interface ProxiedSource {
  readonly address: string;
  readonly port: number;
}

export type ProxyHeader =
  /** Too few bytes yet to decide. */
  | { readonly kind: 'incomplete' }
  /** `length` bytes of header; `source` null for a LOCAL (v2) or UNKNOWN (v1) connection: the proxy's own. */
  | { readonly kind: 'header'; readonly length: number; readonly source: ProxiedSource | null }
  | { readonly kind: 'invalid'; readonly reason: string };

const V2_SIGNATURE = Buffer.from('0d0a0d0a000d0a515549540a', 'hex');
const V1_PREFIX = Buffer.from('PROXY ', 'latin1');
/** v1: at most 107 bytes with its CR LF. */
const V1_MAX = 107;
/** v2: the addresses and whatever TLVs a proxy adds; more is no proxy we configured. */
const V2_MAX_PAYLOAD = 2048;

const isPrefixOf = (buf: Buffer, of: Buffer) =>
  buf.subarray(0, Math.min(buf.length, of.length)).equals(of.subarray(0, Math.min(buf.length, of.length)));

export function parseProxyHeader(buf: Buffer): ProxyHeader {
  if (isPrefixOf(buf, V2_SIGNATURE)) return buf.length < 16 ? { kind: 'incomplete' } : parseV2(buf);
  if (isPrefixOf(buf, V1_PREFIX)) return parseV1(buf);
  return { kind: 'invalid', reason: 'no PROXY protocol header' };
}

function parseV2(buf: Buffer): ProxyHeader {
  const verCmd = buf[12]!;
  if (verCmd >> 4 !== 2) return { kind: 'invalid', reason: `PROXY v2: version ${verCmd >> 4}` };
  const command = verCmd & 0x0f;
  if (command > 1) return { kind: 'invalid', reason: `PROXY v2: command ${command}` };
  const len = buf.readUInt16BE(14);
  if (len > V2_MAX_PAYLOAD) return { kind: 'invalid', reason: `PROXY v2: ${len} bytes of addresses` };
  if (buf.length < 16 + len) return { kind: 'incomplete' };
  const length = 16 + len;
  if (command === 0) return { kind: 'header', length, source: null }; // LOCAL: the proxy's own check
  const family = buf[13]!;
  if (family === 0x11 && len >= 12) {
    const a = buf.subarray(16, 20);
    return { kind: 'header', length, source: { address: a.join('.'), port: buf.readUInt16BE(24) } };
  }
  if (family === 0x21 && len >= 36) {
    // Eight groups, uncompressed (sourceKey and the logs take it as it is).
    const address = Array.from({ length: 8 }, (_, i) => buf.readUInt16BE(16 + 2 * i).toString(16)).join(':');
    return { kind: 'header', length, source: { address, port: buf.readUInt16BE(48) } };
  }
  if (family === 0x00) return { kind: 'header', length, source: null };
  return {
    kind: 'invalid',
    reason: `PROXY v2: address family 0x${family.toString(16)} (TCP over IPv4/IPv6 only)`,
  };
}

function parseV1(buf: Buffer): ProxyHeader {
  const end = buf.subarray(0, V1_MAX).indexOf('\r\n');
  if (end < 0)
    return buf.length < V1_MAX ? { kind: 'incomplete' } : { kind: 'invalid', reason: 'PROXY v1: no CR LF' };
  const length = end + 2;
  const parts = buf.subarray(0, end).toString('latin1').split(' ');
  if (parts[1] === 'UNKNOWN') return { kind: 'header', length, source: null };
  const [, proto, src, dst, sport, dport] = parts;
  const family = proto === 'TCP4' ? 4 : proto === 'TCP6' ? 6 : 0;
  const port = (p: string | undefined) => (p && /^\d{1,5}$/.test(p) && Number(p) <= 65_535 ? Number(p) : -1);
  if (
    parts.length !== 6 ||
    family === 0 ||
    net.isIP(src ?? '') !== family ||
    net.isIP(dst ?? '') !== family ||
    port(sport) < 0 ||
    port(dport) < 0
  )
    return { kind: 'invalid', reason: 'PROXY v1: malformed line' };
  return { kind: 'header', length, source: { address: src!, port: port(sport) } };
}

/** An address as the gateway compares it: IPv4-mapped IPv6 as IPv4, lower case, no zone. */
export function plainAddress(address: string): string {
  const a = address.replace(/%.*$/, '').toLowerCase();
  return /^::ffff:(\d+\.\d+\.\d+\.\d+)$/.exec(a)?.[1] ?? a;
}

/**
 * Reads the header from a proxy's connection, then hands the socket on with the bytes after it put
 * back. `onSource` gets the client's address (or the proxy's own for LOCAL/UNKNOWN); `onInvalid` a
 * reason, after which the socket is destroyed (no header in time, a malformed one, or a proxy that
 * does not speak the protocol: each a configuration error to see in the logs, never a client to serve).
 */
export function readProxyHeader(
  socket: net.Socket,
  deadlineMs: number,
  onSource: (source: ProxiedSource | null) => void,
  onInvalid: (reason: string) => void,
): void {
  let buf: Buffer = Buffer.alloc(0);
  let done = false;
  const finish = () => {
    done = true;
    clearTimeout(timer);
    socket.off('data', onData);
    socket.off('close', onClose);
  };
  const fail = (reason: string) => {
    finish();
    onInvalid(reason);
    socket.destroy();
  };
  const timer = setTimeout(() => fail(`no PROXY protocol header within ${deadlineMs} ms`), deadlineMs);
  const onClose = () => finish();
  const onData = (chunk: Buffer) => {
    if (done) return;
    buf = buf.length === 0 ? chunk : Buffer.concat([buf, chunk]);
    const h = parseProxyHeader(buf);
    if (h.kind === 'incomplete') return;
    if (h.kind === 'invalid') return fail(h.reason);
    finish();
    socket.pause();
    onSource(h.source);
    if (buf.length > h.length) socket.unshift(buf.subarray(h.length));
    socket.resume();
  };
  socket.on('data', onData);
  socket.on('close', onClose);
  socket.on('error', () => undefined);
}
