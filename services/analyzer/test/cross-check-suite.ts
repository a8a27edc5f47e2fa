// The set-up the scheduled cross-check rounds' integration tests share: the test's own servers with a registry, the
// data the test writes to InfluxDB, a consumer collecting the test's deviation.v1, and one in-process analyzer with
// only that round scheduled every second at a fixed clock; all of it closed and dropped after the file.
import type { DeviationV1 } from '@offsite/contracts';
import { createMemoryLogger, type MemoryLogger } from '@offsite/runtime';
import type { Consumer } from 'kafkajs';
import type pg from 'pg';
import { createAnalyzer, type Analyzer, type AnalyzerOptions } from '../src/app.js';
import {
  closeTestServers,
  collectDeviations,
  jobTestAnalyzerOptions,
  openTestServers,
  testResources,
  type TestServers,
} from './resources.js';

/** The scheduled cross-check rounds and the analyzer option that schedules each. */
const SCHEDULE = {
  'production-emission': 'productionEmission',
  peers: 'peers',
  'cross-device': 'crossDevice',
} as const satisfies Record<string, keyof AnalyzerOptions>;

export interface CrossCheckSuite {
  readonly servers: TestServers;
  readonly pool: pg.Pool;
  readonly analyzer: Analyzer;
  /** Every deviation.v1 event on the test's topic, in order. */
  readonly events: DeviationV1[];
  readonly logger: MemoryLogger;
  /** Scheduled rounds of the job done so far. */
  rounds(): number;
}

/**
 * Registers the file's beforeAll/afterAll: `seed` returns the line-protocol lines written before the analyzer is
 * created (it may also change the test's registry through `servers.pool`); the fields are set once beforeAll ran.
 */
export function crossCheckSuite(o: {
  /** Names the test's schema, topics, database and consumer group. */
  name: string;
  job: keyof typeof SCHEDULE;
  registry?: 'example.yaml' | 'demo.yaml';
  /** The analyzer's clock. */
  now: number;
  seed: (servers: TestServers) => Promise<string[]> | string[];
  timeoutMs?: number;
}): CrossCheckSuite {
  const res = testResources(o.name);
  const events: DeviationV1[] = [];
  const logger = createMemoryLogger();
  let servers: TestServers | undefined;
  let analyzer: Analyzer | undefined;
  let collector: Consumer | undefined;
  const ready = <T>(v: T | undefined): T => {
    if (v === undefined) throw new Error('crossCheckSuite: used before beforeAll ran');
    return v;
  };

  beforeAll(async () => {
    servers = await openTestServers(res, `analyzer-${o.name}-int`, o.registry);
    await servers.writer.write(await o.seed(servers));
    collector = await collectDeviations(servers.kafka, res, events);
    analyzer = await createAnalyzer({
      ...jobTestAnalyzerOptions(res, servers, o.name),
      [SCHEDULE[o.job]]: { intervalMs: 1_000 },
      jobLeaseMs: 5_000,
      logger,
      clock: () => o.now,
    });
  }, o.timeoutMs ?? 120_000);

  afterAll(async () => {
    if (servers) await closeTestServers(res, servers, analyzer, collector);
  });

  return {
    get servers() {
      return ready(servers);
    },
    get pool() {
      return ready(servers).pool;
    },
    get analyzer() {
      return ready(analyzer);
    },
    events,
    logger,
    rounds: () =>
      logger.entries.filter((e) => e.message === 'scheduled job round done' && e.fields.job === o.job).length,
  };
}
