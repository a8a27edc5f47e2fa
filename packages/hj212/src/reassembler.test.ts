import { decodePacket } from './decode.js';
import { encodePacket } from './encoder.js';
import type { Packet } from './packet.js';
import { SplitPacketReassembler } from './reassembler.js';

const part = (
  pno: number,
  pnum: number,
  cp: string,
  qn = '20200924101500117',
  mn = '010000A8900016F000169DC0',
): Packet => {
  const r = decodePacket(encodePacket({ qn, st: '31', cn: '2051', pw: '1', mn, flag: 7, pnum, pno, cp }));
  if (!r.ok) throw new Error(r.error.message);
  return r.packet;
};

describe('SplitPacketReassembler', () => {
  it('joins parts in PNO order whatever the arrival order', () => {
    const r = new SplitPacketReassembler();
    expect(r.add(part(2, 3, 'a21026-Avg=2,a21026-Flag=N'), 0)).toEqual({
      status: 'pending',
      received: 1,
      pnum: 3,
    });
    expect(r.add(part(1, 3, 'DataTime=20200924101000;a21002-Avg=1'), 10)).toMatchObject({
      status: 'pending',
      received: 2,
    });
    const done = r.add(part(3, 3, 'a34013-Avg=3'), 20);
    expect(done.status).toBe('complete');
    if (done.status !== 'complete') return;
    expect(done.parts).toBe(3);
    expect(done.packet.dataTime).toBe('2020-09-24T10:10:00+08:00');
    expect(done.packet.values.map((v) => v.code)).toEqual(['a21002', 'a21026', 'a34013']);
    expect(done.packet.flags).toEqual({ a21026: 'N' });
    expect(r.openGroups).toBe(0);
  });

  it('passes unsplit packets through', () => {
    const p = decodePacket(encodePacket({ st: '31', cn: '2011', pw: '1', mn: 'x', cp: '' }));
    expect(p.ok && new SplitPacketReassembler().add(p.packet, 0)).toMatchObject({
      status: 'complete',
      parts: 1,
    });
  });

  it('keeps groups of different QN and MN apart', () => {
    const r = new SplitPacketReassembler();
    r.add(part(1, 2, 'a=1', 'Q1'.padEnd(17, '0')), 0);
    r.add(part(1, 2, 'a=1', 'Q2'.padEnd(17, '0')), 0);
    r.add(part(1, 2, 'a=1', 'Q1'.padEnd(17, '0'), 'OTHER'), 0);
    expect(r.openGroups).toBe(3);
  });

  it('reports duplicates, inconsistent PNUM and bounds', () => {
    const r = new SplitPacketReassembler({ maxParts: 4, maxGroups: 1, maxBytes: 400 });
    r.add(part(1, 3, 'a=1'), 0);
    expect(r.add(part(1, 3, 'a=1'), 1)).toMatchObject({
      status: 'error',
      error: { code: 'split-duplicate' },
    });
    expect(r.add(part(2, 4, 'a=1'), 1)).toMatchObject({
      status: 'error',
      error: { code: 'split-inconsistent' },
    });
    expect(r.add(part(1, 5, 'a=1'), 1)).toMatchObject({ status: 'error', error: { code: 'split-overflow' } });
    r.add(part(1, 3, 'a=1'), 2);
    expect(r.add(part(1, 3, 'a=1', '20200101000000000'), 2)).toMatchObject({
      error: { code: 'split-overflow' },
    });
    expect(r.add(part(2, 3, `a=${'9'.repeat(300)}`), 3)).toMatchObject({ error: { code: 'split-overflow' } });
    expect(r.openGroups).toBe(0);
  });

  it('expires incomplete groups after the timeout', () => {
    const r = new SplitPacketReassembler({ timeoutMs: 1000 });
    r.add(part(1, 2, 'a=1'), 0);
    expect(r.expire(1000)).toEqual([]);
    expect(r.expire(1001)).toEqual([
      expect.objectContaining({
        qn: '20200924101500117',
        received: 1,
        pnum: 2,
        error: expect.objectContaining({ code: 'split-timeout' }),
      }),
    ]);
    expect(r.openGroups).toBe(0);
    // a late part after expiry starts a new group instead of completing a stale one
    r.add(part(1, 2, 'a=1'), 0);
    expect(r.add(part(2, 2, 'a=1'), 5000)).toMatchObject({ status: 'pending', received: 1 });
  });
});
