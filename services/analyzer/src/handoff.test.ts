import type { Output } from '@offsite/domain';
import { createMemoryLogger } from '@offsite/runtime';
import { handOff, REJECTED_IDS_LOGGED } from './handoff.js';

// Readings the engine refuses (too late) are counted per code and summarised in one warning per batch.
/** A memory logger and its warnings. */
function recorder() {
  const logger = createMemoryLogger();
  const warnings = () =>
    logger.entries.filter((e) => e.level === 'warn').map((e) => ({ fields: e.fields, msg: e.message }));
  return { logger, warnings };
}

const tooLate = (i: number): Output => ({
  type: 'rejected',
  eventId: `ev-${i}`,
  code: 'too-late',
  message: `dataTime 2026-11-20T00:0${i % 10}:00.000Z is before the lateness horizon 2026-11-26T16:00:00.000Z`,
});

test('3,359 refused readings in a batch: one warning with the count, the codes, the first ids; counted per code', async () => {
  const { logger, warnings } = recorder();
  const counted: [string, number][] = [];
  const outputs: Output[] = Array.from({ length: 3_359 }, (_, i) => tooLate(i));
  outputs.push({
    type: 'rejected',
    eventId: 'ev-nan',
    code: 'invalid-reading',
    message: 'dataTime is not a finite epoch ms',
  });
  const sinks = { dlq: async () => {}, aggregates: async () => {}, deviations: async () => {} };
  await handOff(
    { sinks, counters: { rejected: (code, n) => counted.push([code, n]) }, clock: () => 0, logger },
    'telemetry.v1',
    3,
    outputs,
    [],
  );
  expect(counted).toEqual([
    ['too-late', 3_359],
    ['invalid-reading', 1],
  ]);
  expect(warnings()).toHaveLength(1);
  expect(warnings()[0]!.msg).toBe('3360 readings refused by the engine in this batch');
  expect(warnings()[0]!.fields).toEqual({
    topic: 'telemetry.v1',
    partition: 3,
    rejected: 3_360,
    byCode: { 'too-late': 3_359, 'invalid-reading': 1 },
    eventIds: ['ev-0', 'ev-1', 'ev-2', 'ev-3', 'ev-4'].slice(0, REJECTED_IDS_LOGGED),
    firstReason: (outputs[0] as { message: string }).message,
  });
});

test('a batch without refused readings logs nothing and counts nothing', async () => {
  const { logger, warnings } = recorder();
  const counted: unknown[] = [];
  const sinks = { dlq: async () => {}, aggregates: async () => {}, deviations: async () => {} };
  await handOff(
    { sinks, counters: { rejected: (...a) => counted.push(a) }, clock: () => 0, logger },
    'telemetry.v1',
    0,
    [],
    [],
  );
  expect(warnings()).toEqual([]);
  expect(counted).toEqual([]);
});
