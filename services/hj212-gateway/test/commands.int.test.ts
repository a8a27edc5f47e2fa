/**
 * Clock calibration against the real Kafka and Postgres: a logger that asks for the time (1013) gets
 * 9013 and then the centre's 1012 SystemTime, tracked by its QN until the logger's 9011/9012 — for a
 * logger that carries it out, one that refuses, and one that never answers.
 */
import {
  decodePacket,
  encodePacket,
  executionResult,
  ExeRtn,
  formatDataTime,
  formatQn,
  QnRtn,
  requestAck,
} from '@offsite/hj212';
import { until } from '@offsite/testing';
import { Logger212, metricValue, startHarness, type Collected, type Harness } from './harness.js';

const DEVICES = {
  answers: { mn: '99010201FG00010000000001', pw: 'Hd7q2Lx9' },
  refuses: { mn: '99010202FG00020000000001', pw: 'Gc4m8Rt1' },
  silent: { mn: '99010304FG00060000000001', pw: 'St8c3Hm6' },
  drifting: { mn: '99010305FG00090000000001', pw: 'Ss9k4Tb2' },
  onTime: { mn: '99010404FG00120000000001', pw: 'Yh7u3Ns1' },
};

let h: Harness;

beforeAll(async () => {
  h = await startHarness({
    commands: { timeoutMs: 1_500, maxAttempts: 1, calibrationIntervalMs: 600_000, clockDriftMaxS: 60 },
  });
});
afterAll(async () => {
  await h?.stop();
});

let seq = 0;
const timeRequest = (d: { mn: string; pw: string }) => {
  const qn = `20240305${String(1_000_000_000 + seq++).slice(1)}`;
  return { qn, bytes: encodePacket({ qn, st: '31', cn: '1013', pw: d.pw, mn: d.mn, flag: 5, cp: [] }) };
};
const commands = (outcome: string) =>
  metricValue(h.registry, 'offsite_hj212_commands_total', { cn: '1012', outcome });

/** Sends a 1013 and returns the centre's 9013 and 1012 (decoded). */
async function askForTime(c: Logger212, d: { mn: string; pw: string }) {
  const req = timeRequest(d);
  const sentAt = Date.now();
  c.send(req.bytes);
  const [ack, command] = await c.waitFrames(2);
  const a = decodePacket(ack!);
  const cmd = decodePacket(command!);
  if (!a.ok || !cmd.ok) throw new Error('undecodable frame from the gateway');
  expect(a.packet).toMatchObject({ cn: '9013', qn: req.qn, mn: d.mn });
  expect(cmd.packet).toMatchObject({ cn: '1012', mn: d.mn, pw: d.pw, st: '31', flag: 5, version: '2017' });
  const systemTime = cmd.packet.params.SystemTime!;
  // SystemTime is Beijing time, between the request and now.
  const asUtc = Date.parse(
    `${systemTime.slice(0, 4)}-${systemTime.slice(4, 6)}-${systemTime.slice(6, 8)}T${systemTime.slice(8, 10)}:${systemTime.slice(10, 12)}:${systemTime.slice(12, 14)}+08:00`,
  );
  expect(asUtc).toBeGreaterThanOrEqual(Math.floor(sentAt / 1000) * 1000);
  expect(asUtc).toBeLessThanOrEqual(Date.now());
  return cmd.packet;
}

/** The calibration records of an MN in gateway_commands, with their audit trail. */
async function records(mn: string) {
  const r = await h.pool.query<{
    id: string;
    status: string;
    trigger: string;
    qn: string;
    qn_rtn: string | null;
    exe_rtn: string | null;
    attempts: number;
    events: string[];
  }>(
    `select c.id, c.status, c.trigger, c.qn, c.qn_rtn, c.exe_rtn, c.attempts,
            array(select event from gateway_command_events e where e.command_id = c.id order by seq) as events
       from gateway_commands c where c.mn = $1 and c.cn = '1012' order by c.requested_at`,
    [mn],
  );
  return r.rows;
}

const archivedCommand = (qn: string) => (r: Collected) =>
  r.topic === h.topics.raw &&
  r.value.direction === 'out' &&
  r.value.cn === '1012' &&
  Buffer.from(String(r.value.raw), 'base64').toString().includes(`QN=${qn};`);

describe('clock calibration (1013 → 9013, then 1012) against real Kafka and Postgres', () => {
  it('tracks a logger that sets its clock: 9011 QnRtn=1, then 9012 ExeRtn=1 → done', async () => {
    const d = DEVICES.answers;
    const c = await Logger212.connect(h.port);
    const cmd = await askForTime(c, d);
    // The command is archived: it was produced (acks=-1) before it was written.
    await until(() => h.collected.some(archivedCommand(cmd.qn!)), 10_000, 'the 1012 in hj212.raw.v1');
    const me = { qn: cmd.qn, pw: d.pw, mn: d.mn, flag: 4 };
    c.send(encodePacket(requestAck(me, QnRtn.Ready)));
    c.send(encodePacket(executionResult(me, ExeRtn.Success)));
    await until(async () => (await commands('done')) === 1, 10_000, 'done');
    await until(
      async () => (await records(d.mn))[0]?.status === 'fulfilled',
      10_000,
      'recorded as fulfilled',
    );
    expect(await records(d.mn)).toEqual([
      expect.objectContaining({
        trigger: 'logger-asked',
        qn: cmd.qn,
        qn_rtn: '1',
        exe_rtn: '1',
        attempts: 1,
        events: ['requested', 'sent', 'fulfilled'],
      }),
    ]);
    // A second request inside the interval is answered (9013) but does not set the clock again.
    const again = timeRequest(d);
    c.send(again.bytes);
    await c.waitFrames(3);
    await until(async () => (await commands('rate-limited')) === 1, 10_000, 'rate-limited');
    expect(c.frames).toHaveLength(3);
    c.end();
  });

  it('tracks a logger that refuses: 9011 QnRtn=2 → refused', async () => {
    const d = DEVICES.refuses;
    const c = await Logger212.connect(h.port);
    const cmd = await askForTime(c, d);
    c.send(encodePacket(requestAck({ qn: cmd.qn, pw: d.pw, mn: d.mn, flag: 4 }, QnRtn.Rejected)));
    await until(async () => (await commands('refused')) === 1, 10_000, 'refused');
    await until(async () => (await records(d.mn))[0]?.status === 'refused', 10_000, 'recorded as refused');
    expect((await records(d.mn))[0]).toMatchObject({ qn_rtn: '2', events: ['requested', 'sent', 'refused'] });
    c.end();
  });

  it('times out a logger that never answers', async () => {
    const d = DEVICES.silent;
    const c = await Logger212.connect(h.port);
    await askForTime(c, d);
    await until(async () => (await commands('timed-out')) === 1, 10_000, 'timed out');
    expect(await commands('sent')).toBe(3);
    await until(
      async () => (await records(d.mn))[0]?.status === 'timed-out',
      10_000,
      'recorded as timed out',
    );
    expect((await records(d.mn))[0]).toMatchObject({
      attempts: 1,
      events: ['requested', 'sent', 'timed-out'],
    });
    c.end();
  });

  it('sets the clock of a logger whose real-time upload carries a QN far from the receive time, not of one on time', async () => {
    const upload = (d: { mn: string; pw: string }, at: Date) =>
      encodePacket({
        qn: formatQn(at),
        st: '31',
        cn: '2011',
        pw: d.pw,
        mn: d.mn,
        flag: 5,
        cp: `DataTime=${formatDataTime(at)};a21026-Rtd=1.5,a21026-Flag=N`,
      });
    const onTime = await Logger212.connect(h.port);
    onTime.send(upload(DEVICES.onTime, new Date()));
    expect((await onTime.waitFrames(1))[0]).toContain('CN=9014');

    const sentBefore = await commands('sent');
    const drifting = await Logger212.connect(h.port);
    drifting.send(upload(DEVICES.drifting, new Date(Date.now() - 5 * 60_000)));
    const [ack, command] = await drifting.waitFrames(2);
    expect(ack).toContain('CN=9014');
    expect(command).toContain('CN=1012');
    expect(command).toContain(`MN=${DEVICES.drifting.mn}`);
    await until(async () => (await commands('sent')) === sentBefore + 1, 10_000, 'one more 1012 sent');
    // Records are produced in order, so a 1012 to the logger on time would have been written first.
    expect(onTime.frames).toHaveLength(1);
    onTime.end();
    drifting.end();
  });
});
