import type { Logger } from '@offsite/runtime/logger';

export { requireEnv } from './env.js';
export { managerEmailPolicy } from './alerter-policy.js';

/** A Logger (the project's one type) that drops everything. */
export type SilentLogger = Logger;

export const silentLogger: SilentLogger = {
  debug: () => undefined,
  info: () => undefined,
  warn: () => undefined,
  error: () => undefined,
  child: () => silentLogger,
};

/** Polls until `cond` holds, failing with `what` after `ms`. */
export async function until(cond: () => boolean | Promise<boolean>, ms: number, what: string): Promise<void> {
  const end = Date.now() + ms;
  while (!(await cond())) {
    if (Date.now() > end) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** mulberry32: a small seeded generator in [0, 1), so a test's random schedule or input can be replayed from its seed. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

export {
  SOURCE_CONDITION,
  runService,
  readyStatus,
  serviceNodeArgs,
  serviceNodeFlags,
  type ServiceProcess,
} from './service-process.js';
export { influxql } from './influxql.js';
export { relay, startProxy, type CuttableProxy } from './proxy.js';
export { hj212HourlyUpload } from './hj212.js';
export { readSinkHeads, readSinkMails, scanHeaders, type SinkHead, type SinkMail } from './mail.js';
export { freePort, privatePostgres, type PrivatePostgres } from './postgres.js';
export {
  compareWithUndisturbed,
  describeDeviation,
  foldFollows,
  followsOf,
  retracted,
  type DeviationEventLike,
} from './deviations.js';
export { createTestSchema, type TestSchema, type TestSchemaOptions } from './pg-schema.js';
