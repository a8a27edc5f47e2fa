/**
 * The centre's history requests (数据补遗) and a supervisor's reads against the real Kafka and Postgres:
 * an offline deviation that resolved on deviation.v1 becomes 2051/2061 requests for the gap, sent over
 * the logger's authenticated connection one at a time, tracked by QN to its 9011/9012 with the data
 * that flows back as ordinary telemetry — for a logger that answers (2017 and 2005), one that refuses
 * and one that never answers (retried with backoff, then timed out); and hj212.command.v1 requests
 * from the console (1011 answered with its time; an unknown MN to the DLQ).
 */
import {
  dataCp,
  decodePacket,
  encodePacket,
  executionResult,
  ExeRtn,
  formatQn,
  QnRtn,
  requestAck,
  type Packet,
  type ProtocolVersion,
} from '@offsite/hj212';
import { until } from '@offsite/testing';
import { Logger212, metricValue, startHarness, type Harness } from './harness.js';

interface Device {
  mn: string;
  pw: string;
  st: string;
  version: ProtocolVersion;
}
const ANSWERS: Device = { mn: '99010201FG00010000000001', pw: 'Hd7q2Lx9', st: '31', version: '2017' };
const REFUSES: Device = { mn: '99010202FG00020000000001', pw: 'Gc4m8Rt1', st: '31', version: '2017' };
const SILENT: Device = { mn: '99010304FG00060000000001', pw: 'St8c3Hm6', st: '31', version: '2017' };
const OLD: Device = { mn: '99010403WW00110000000001', pw: 'Jg2r8Mf6', st: '32', version: '2005' };

const MIN = 60_000;
const GAP_START = Date.parse('2024-03-05T02:00:00Z');
const GAP_END = GAP_START + 120 * MIN;

let h: Harness;

beforeAll(async () => {
  h = await startHarness({
    commands: { timeoutMs: 1_500, maxAttempts: 2, backoffMs: 300, maxBackoffMs: 300, pollMs: 100 },
    intake: { maxAttempts: 2 },
  });
});
afterAll(async () => {
  await h?.stop();
});

const flagOf = (d: Device, ack: boolean) => ((d.version === '2005' ? 0 : 1) << 2) | (ack ? 1 : 0);

/** A logger connection that reads the gateway's frames in order. */
class Client {
  private read = 0;
  private constructor(
    readonly c: Logger212,
    readonly d: Device,
  ) {}
  static async open(d: Device): Promise<Client> {
    const c = new Client(await Logger212.connect(h.port), d);
    // A live real-time upload authenticates the connection (and asks for its 9014).
    c.send('2011', formatQn(new Date()), Date.now(), true);
    expect(await c.next()).toMatchObject({ cn: '9014' });
    return c;
  }
  send(cn: string, qn: string, dataTime: number, ack = false, stat = 'Avg'): void {
    const code = this.d.version === '2005' ? '011' : 'a21026';
    this.c.send(
      encodePacket({
        qn,
        st: this.d.st,
        cn,
        pw: this.d.pw,
        mn: this.d.mn,
        flag: flagOf(this.d, ack),
        cp: dataCp(new Date(dataTime), [{ code, stat: cn === '2011' ? 'Rtd' : stat, value: 35.5 }], {
          [code]: 'N',
        }),
      }),
    );
  }
  answer(to: Packet, kind: 'ready' | 'refused' | 'done'): void {
    const me = { qn: to.qn, pw: this.d.pw, mn: this.d.mn, flag: flagOf(this.d, false) };
    this.c.send(
      encodePacket(
        kind === 'done'
          ? executionResult(me, ExeRtn.Success)
          : requestAck(me, kind === 'ready' ? QnRtn.Ready : QnRtn.Rejected),
      ),
    );
  }
  /** The next frame from the gateway, decoded. */
  async next(ms = 15_000): Promise<Packet> {
    const frames = await this.c.waitFrames(this.read + 1, ms);
    const r = decodePacket(frames[this.read++]!);
    if (!r.ok) throw new Error('undecodable frame from the gateway');
    return r.packet;
  }
  end(): void {
    this.c.end();
  }
}

const offlineResolved = (id: string, d: Device, revision = 2) => ({
  schema: 'deviation.v1',
  id,
  rule: 'offline',
  state: 'resolved',
  revision,
  severity: 'low',
  enterpriseId: 'e1',
  siteId: 'o1',
  windowStart: new Date(GAP_START).toISOString(),
  windowEnd: new Date(GAP_END).toISOString(),
  openedAt: new Date(GAP_START + 10 * MIN).toISOString(),
  resolvedAt: new Date(GAP_END).toISOString(),
  suspectedFalsification: false,
  inResumptionWindow: false,
  evidence: {
    summary: 'no data from the device',
    values: [],
    params: { deviceId: d.mn, lastSeenAt: GAP_START, resumedAt: GAP_END, domainRule: 'offline' },
  },
  emittedAt: new Date().toISOString(),
});

async function record(id: string) {
  const r = await h.pool.query<{
    status: string;
    readings: number;
    attempts: number;
    qn_rtn: string | null;
    reply: Record<string, string> | null;
    begin_time: Date | null;
    end_time: Date | null;
    events: string[];
  }>(
    `select c.status, c.readings, c.attempts, c.qn_rtn, c.reply, c.begin_time, c.end_time,
            array(select event from gateway_command_events e where e.command_id = c.id order by seq) as events
       from gateway_commands_v1 c where c.id = $1`,
    [id],
  );
  return r.rows[0];
}
const requests = (event: string) =>
  metricValue(h.registry, 'offsite_hj212_command_requests_total', { event });

/** Bejing time of a UTC instant as HJ 212 writes it. */
const beijing = (ms: number) => {
  const s = new Date(ms + 8 * 3_600_000).toISOString();
  return s.slice(0, 19).replace(/[-T:]/g, '');
};

describe('data backfill (补遗) after an offline gap, against real Kafka and Postgres', () => {
  it('asks an answering logger for the gap (2051, then 2061), takes what flows back as telemetry, once', async () => {
    const c = await Client.open(ANSWERS);
    // One reading of the gap arrived before (a partial cache replay): the backfill repeats it.
    c.send('2051', formatQn(new Date(GAP_START + 600_000)), GAP_START, true);
    expect(await c.next()).toMatchObject({ cn: '9014' });

    await h.produce(h.commandTopics.deviation, 'e1', [offlineResolved('dev-answers', ANSWERS)]);
    const minute = await c.next();
    expect(minute).toMatchObject({ cn: '2051', mn: ANSWERS.mn, pw: ANSWERS.pw, st: '31', flag: 5 });
    expect(minute.params).toEqual({ BeginTime: beijing(GAP_START), EndTime: beijing(GAP_END) });
    c.answer(minute, 'ready');
    for (let t = GAP_START; t <= GAP_END; t += 10 * MIN) c.send('2051', minute.qn!, t);
    c.answer(minute, 'done');

    // One request at a time: the hourly one only after the minute one finished.
    const hourly = await c.next();
    expect(hourly).toMatchObject({ cn: '2061' });
    expect(hourly.params).toEqual({ BeginTime: beijing(GAP_START), EndTime: beijing(GAP_END) });
    c.answer(hourly, 'ready');
    for (let t = GAP_START; t <= GAP_END; t += 60 * MIN) c.send('2061', formatQn(new Date()), t);
    c.answer(hourly, 'done');

    await until(
      async () => (await record('backfill-dev-answers-2061'))?.status === 'fulfilled',
      15_000,
      '2061 done',
    );
    expect(await record('backfill-dev-answers-2051')).toMatchObject({
      status: 'fulfilled',
      readings: 13,
      attempts: 1,
      qn_rtn: '1',
      begin_time: new Date(GAP_START),
      end_time: new Date(GAP_END),
      events: ['requested', 'claimed', 'sent', 'fulfilled'],
    });
    expect(await record('backfill-dev-answers-2061')).toMatchObject({ readings: 3 });

    // Ordinary telemetry; the reading that was already there has the same event id (stored once).
    const minuteEvents = () =>
      h.collected.filter(
        (r) =>
          r.topic === h.topics.telemetry && r.value.deviceId === ANSWERS.mn && r.value.interval === 'minute',
      );
    await until(() => minuteEvents().length === 14, 15_000, 'the minute readings on telemetry.v1');
    expect(new Set(minuteEvents().map((r) => r.value.eventId)).size).toBe(13);

    // The deviation again (redelivered, or a later revision): nothing asked twice.
    const before = await requests('requested');
    // A marker behind it in the same partition: once its record exists, the revision was handled.
    const MARKER: Device = { mn: '99010305FG00090000000001', pw: 'Ss9k4Tb2', st: '31', version: '2017' };
    await h.produce(h.commandTopics.deviation, 'e1', [
      offlineResolved('dev-answers', ANSWERS, 3),
      offlineResolved('dev-not-a-logger', { ...MARKER, mn: 'NOT-A-LOGGER' }),
      offlineResolved('dev-marker', MARKER),
    ]);
    await until(async () => (await record('backfill-dev-marker-2061')) !== undefined, 15_000, 'the marker');
    expect(await record('backfill-dev-not-a-logger-2051')).toBeUndefined();
    const { rows } = await h.pool.query(
      `select count(*)::int as n from gateway_commands where id like 'backfill-dev-answers-%'`,
    );
    expect(rows[0].n).toBe(2);
    expect(await requests('requested')).toBe(before + 2); // the marker's two
    c.end();
  });

  it('asks a 2005 logger with the 2005 Flag; it answers', async () => {
    const c = await Client.open(OLD);
    await h.produce(h.commandTopics.deviation, 'e1', [offlineResolved('dev-old', OLD)]);
    const minute = await c.next();
    expect(minute).toMatchObject({ cn: '2051', st: '32', flag: 1, version: '2005' });
    c.answer(minute, 'ready');
    c.send('2051', minute.qn!, GAP_START + 30 * MIN);
    c.answer(minute, 'done');
    await until(async () => (await record('backfill-dev-old-2051'))?.status === 'fulfilled', 15_000, 'done');
    expect(await record('backfill-dev-old-2051')).toMatchObject({ readings: 1 });
    c.end();
  });

  it('records a refusal (9011 QnRtn=2) and does not ask again', async () => {
    const c = await Client.open(REFUSES);
    const refusedBefore = await requests('refused');
    await h.produce(h.commandTopics.deviation, 'e1', [offlineResolved('dev-refuses', REFUSES)]);
    const minute = await c.next();
    c.answer(minute, 'refused');
    const hourly = await c.next();
    expect(hourly.cn).toBe('2061');
    c.answer(hourly, 'refused');
    await until(
      async () => (await record('backfill-dev-refuses-2061'))?.status === 'refused',
      15_000,
      'refused',
    );
    expect(await record('backfill-dev-refuses-2051')).toMatchObject({
      status: 'refused',
      qn_rtn: '2',
      attempts: 1,
      events: ['requested', 'claimed', 'sent', 'refused'],
    });
    expect(await requests('refused')).toBe(refusedBefore + 2);
    c.end();
  });

  it('retries a logger that never answers after a backoff with a new QN, then records the timeout', async () => {
    const c = await Client.open(SILENT);
    await h.produce(h.commandTopics.deviation, 'e1', [offlineResolved('dev-silent', SILENT)]);
    // While the 2051 waits for its backoff, the 2061 is the one in flight; each attempt has its own QN.
    const sent: Packet[] = [];
    while (sent.filter((p) => p.cn === '2051').length < 2) sent.push(await c.next());
    const minute = sent.filter((p) => p.cn === '2051');
    expect(minute[1]!.qn).not.toBe(minute[0]!.qn);
    expect(minute[1]!.params).toEqual(minute[0]!.params);
    await until(
      async () => (await record('backfill-dev-silent-2051'))?.status === 'timed-out',
      15_000,
      'timed out',
    );
    expect(await record('backfill-dev-silent-2051')).toMatchObject({
      attempts: 2,
      events: ['requested', 'claimed', 'sent', 'retry', 'claimed', 'sent', 'timed-out'],
    });
    c.end();
  });
});

describe("a supervisor's commands (hj212.command.v1)", () => {
  const ask = (id: string, mn: string, cn: string) =>
    h.produce(h.commandTopics.command, mn, [
      {
        schema: 'hj212.command.v1',
        id,
        mn,
        cn,
        requestedBy: 'u-1 supervisor',
        requestedAt: new Date().toISOString(),
      },
    ]);

  it("reads a logger's time (1011): the answer is recorded and not answered with a 9011", async () => {
    const c = await Client.open(ANSWERS);
    await ask('sup-time-1', ANSWERS.mn, '1011');
    const req = await c.next();
    expect(req).toMatchObject({ cn: '1011', mn: ANSWERS.mn, flag: 5 });
    c.answer(req, 'ready');
    c.c.send(
      encodePacket({
        qn: req.qn,
        st: ANSWERS.st,
        cn: '1011',
        pw: ANSWERS.pw,
        mn: ANSWERS.mn,
        flag: 4,
        cp: [[{ key: 'SystemTime', value: '20240305120000' }]],
      }),
    );
    c.answer(req, 'done');
    await until(async () => (await record('sup-time-1'))?.status === 'fulfilled', 15_000, 'fulfilled');
    expect(await record('sup-time-1')).toMatchObject({ reply: { SystemTime: '20240305120000' } });
    // The answer carried the request's CN and QN: it answers the centre and got no 9011 of its own,
    // so the next frame the logger receives is the 9014 of its next upload.
    c.send('2011', formatQn(new Date()), Date.now(), true);
    expect(await c.next()).toMatchObject({ cn: '9014' });
    c.end();
  });

  it('sends a request for an MN outside the registry to the DLQ', async () => {
    await ask('sup-unknown', 'NOTINREGISTRY01', '1063');
    await until(
      () =>
        h.collected.some(
          (r) =>
            r.topic === h.topics.dlq &&
            (r.value.reason as { code: string }).code === 'hj212-gateway.command-unknown-device',
        ),
      15_000,
      'the DLQ record',
    );
    expect(await record('sup-unknown')).toBeUndefined();
  });
});
