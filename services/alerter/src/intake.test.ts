import type { DeviationV1, TelemetryDlqV1 } from '@offsite/contracts';
import type { ConsumedBatch } from '@offsite/kafka';
import { silentLogger } from '@offsite/testing';
import { createIntake } from './intake.js';
import { deviation } from '../test/int-support.js';

const batchOf = (values: (DeviationV1 | string)[]): ConsumedBatch => ({
  topic: 'deviation.v1',
  partition: 0,
  messages: values.map((v, i) => ({
    topic: 'deviation.v1',
    partition: 0,
    offset: String(i),
    key: null,
    value: Buffer.from(typeof v === 'string' ? v : JSON.stringify(v)),
    headers: {},
    timestamp: '0',
  })),
  heartbeat: async () => undefined,
  isStale: () => false,
});

const tick = () => new Promise((r) => setTimeout(r, 2));

describe('intake', () => {
  it('keeps each enterprise in arrival order and runs enterprises side by side, up to the limit', async () => {
    const log: string[] = [];
    let running = 0;
    let most = 0;
    const intake = createIntake({
      alerter: {
        async handleDeviation(ev) {
          running++;
          most = Math.max(most, running);
          log.push(`start ${ev.id}@${ev.revision}`);
          await tick();
          log.push(`end ${ev.id}@${ev.revision}`);
          running--;
          return 'planned';
        },
      },
      dlq: async () => undefined,
      logger: silentLogger,
      concurrency: 3,
    });
    const a1 = deviation('r', 'ent-a', 1);
    const evs = [
      a1,
      deviation('r', 'ent-b', 2),
      { ...a1, revision: 2, state: 'updated' as const },
      deviation('r', 'ent-c', 3),
      deviation('r', 'ent-d', 4),
      deviation('r', 'ent-e', 5),
      { ...a1, revision: 3, state: 'resolved' as const, resolvedAt: '2026-03-01T04:00:00Z' },
    ];
    await intake(batchOf(evs));
    expect(log.filter((l) => l.startsWith('start'))).toHaveLength(7);
    // ent-a: each revision starts only after the previous one ended.
    const at = (l: string) => log.indexOf(l);
    expect(at(`end ${a1.id}@1`)).toBeLessThan(at(`start ${a1.id}@2`));
    expect(at(`end ${a1.id}@2`)).toBeLessThan(at(`start ${a1.id}@3`));
    expect(most).toBe(3);
  });

  it('fails the batch only after every other enterprise settled, and stops the failed chain', async () => {
    const done: string[] = [];
    const a1 = deviation('f', 'ent-a', 1);
    const intake = createIntake({
      alerter: {
        async handleDeviation(ev) {
          await tick();
          if (ev.id === a1.id && ev.revision === 1) throw new Error('postgres away');
          await tick();
          done.push(`${ev.id}@${ev.revision}`);
          return 'planned';
        },
      },
      dlq: async () => undefined,
      logger: silentLogger,
    });
    const b = deviation('f', 'ent-b', 2);
    await expect(intake(batchOf([a1, b, { ...a1, revision: 2 }]))).rejects.toThrow('postgres away');
    expect(done).toEqual([`${b.id}@1`]); // ent-b finished; ent-a's revision 2 never ran
  });

  it('sends what is not a valid deviation to the DLQ and handles the rest', async () => {
    const handled: string[] = [];
    const dlq: TelemetryDlqV1[] = [];
    const intake = createIntake({
      alerter: {
        async handleDeviation(ev) {
          handled.push(ev.id);
          return 'planned';
        },
      },
      dlq: async (records) => {
        dlq.push(...records);
      },
      logger: silentLogger,
    });
    const ok = deviation('d', 'ent-a', 1);
    await intake(batchOf(['{not json', JSON.stringify({ schema: 'deviation.v1' }), ok]));
    expect(handled).toEqual([ok.id]);
    expect(dlq.map((r) => r.reason.code)).toEqual(['alerter.json-invalid', 'alerter.schema-invalid']);
  });
});
