import { parseProxyHeader, plainAddress } from './proxy-protocol.js';

const SIG = Buffer.from('0d0a0d0a000d0a515549540a', 'hex');
function v2(command: number, family: number, addresses: Buffer): Buffer {
  const head = Buffer.alloc(16);
  SIG.copy(head);
  head[12] = 0x20 | command;
  head[13] = family;
  head.writeUInt16BE(addresses.length, 14);
  return Buffer.concat([head, addresses]);
}
function ipv4(src: number[], dst: number[], sport: number, dport: number): Buffer {
  const b = Buffer.alloc(12);
  Buffer.from(src).copy(b, 0);
  Buffer.from(dst).copy(b, 4);
  b.writeUInt16BE(sport, 8);
  b.writeUInt16BE(dport, 10);
  return b;
}

describe('parseProxyHeader', () => {
  it('reads a v2 PROXY header over IPv4, with the bytes after it left alone', () => {
    const h = v2(1, 0x11, ipv4([203, 0, 113, 7], [10, 0, 0, 1], 40_001, 20_212));
    const buf = Buffer.concat([h, Buffer.from('##0101QN=')]);
    expect(parseProxyHeader(buf)).toEqual({
      kind: 'header',
      length: 28,
      source: { address: '203.0.113.7', port: 40_001 },
    });
  });

  it('reads v2 over IPv6 (uncompressed groups), with TLVs after the addresses', () => {
    const a = Buffer.alloc(36 + 7);
    Buffer.from('20010db8000000000000000000000042', 'hex').copy(a, 0);
    a.writeUInt16BE(5555, 32);
    a.writeUInt16BE(20_212, 34);
    Buffer.from([0x04, 0x00, 0x04, 1, 2, 3, 4]).copy(a, 36); // a NOOP TLV
    expect(parseProxyHeader(v2(1, 0x21, a))).toEqual({
      kind: 'header',
      length: 16 + 43,
      source: { address: '2001:db8:0:0:0:0:0:42', port: 5555 },
    });
  });

  it('takes LOCAL (the proxy’s own health check) and UNSPEC as no source', () => {
    expect(parseProxyHeader(v2(0, 0x11, ipv4([1, 2, 3, 4], [5, 6, 7, 8], 1, 2)))).toEqual({
      kind: 'header',
      length: 28,
      source: null,
    });
    expect(parseProxyHeader(v2(1, 0x00, Buffer.alloc(0)))).toEqual({
      kind: 'header',
      length: 16,
      source: null,
    });
  });

  it('reads v1 lines, TCP4, TCP6 and UNKNOWN', () => {
    expect(parseProxyHeader(Buffer.from('PROXY TCP4 198.51.100.9 10.0.0.1 51000 20212\r\n##0101'))).toEqual({
      kind: 'header',
      length: 46,
      source: { address: '198.51.100.9', port: 51_000 },
    });
    expect(parseProxyHeader(Buffer.from('PROXY TCP6 2001:db8::7 2001:db8::1 4000 20212\r\n'))).toMatchObject({
      source: { address: '2001:db8::7', port: 4000 },
    });
    expect(parseProxyHeader(Buffer.from('PROXY UNKNOWN\r\n'))).toEqual({
      kind: 'header',
      length: 15,
      source: null,
    });
  });

  it('waits for more bytes while what came is a prefix of a header', () => {
    const full = v2(1, 0x11, ipv4([203, 0, 113, 7], [10, 0, 0, 1], 1, 2));
    for (const n of [1, 5, 12, 15, 20, 27])
      expect(parseProxyHeader(full.subarray(0, n)).kind).toBe('incomplete');
    expect(parseProxyHeader(Buffer.from('PROXY TCP4 198.51')).kind).toBe('incomplete');
    expect(parseProxyHeader(Buffer.from('PRO')).kind).toBe('incomplete');
  });

  it('refuses what is not a header, by reason', () => {
    const reason = (b: Buffer) => {
      const h = parseProxyHeader(b);
      return h.kind === 'invalid' ? h.reason : h.kind;
    };
    expect(reason(Buffer.from('##0101QN=2024'))).toBe('no PROXY protocol header');
    expect(reason(Buffer.from('PROXY TCP4 1.2.3.4 5.6.7.8 99999 1\r\n'))).toBe('PROXY v1: malformed line');
    expect(reason(Buffer.from('PROXY TCP4 2001:db8::1 5.6.7.8 1 1\r\n'))).toBe('PROXY v1: malformed line');
    expect(reason(Buffer.from(`PROXY TCP4 ${'1'.repeat(120)}`))).toBe('PROXY v1: no CR LF');
    const badVersion = v2(1, 0x11, ipv4([1, 2, 3, 4], [5, 6, 7, 8], 1, 2));
    badVersion[12] = 0x11;
    expect(reason(badVersion)).toBe('PROXY v2: version 1');
    expect(reason(v2(1, 0x31, Buffer.alloc(216)))).toBe(
      'PROXY v2: address family 0x31 (TCP over IPv4/IPv6 only)',
    );
    const huge = v2(1, 0x11, Buffer.alloc(0));
    huge.writeUInt16BE(60_000, 14);
    expect(reason(huge)).toBe('PROXY v2: 60000 bytes of addresses');
  });
});

describe('plainAddress', () => {
  it('maps IPv4-mapped IPv6 to IPv4 and drops a zone', () => {
    expect(plainAddress('::ffff:127.0.0.1')).toBe('127.0.0.1');
    expect(plainAddress('FE80::1%eth0')).toBe('fe80::1');
  });
});
