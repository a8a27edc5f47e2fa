// The analyzer's start deadline against its Kafka session timeout (issue 4/8: a restart after kill -9 waits for
// the killed member's session to expire before the group assigns partitions).
import { loadConfig } from '@offsite/runtime';
import { AnalyzerEnv, analyzerStartDeadlineMs } from './config.js';

const base = {
  OFFSITE_KAFKA_BROKERS: '127.0.0.1:9092',
  OFFSITE_PG_URL: 'postgres://u:p@127.0.0.1/db',
  OFFSITE_INFLUX_URL: 'http://127.0.0.1:8086',
  OFFSITE_INFLUX_BUCKET: 'offsite/autogen',
};

test('defaults: 30 s session timeout, start deadline 90 s (clearly longer than one session)', () => {
  const env = loadConfig(AnalyzerEnv, base);
  expect(env.OFFSITE_ANALYZER_SESSION_TIMEOUT_MS).toBe(30_000);
  expect(env.OFFSITE_ANALYZER_START_DEADLINE_MS).toBeUndefined();
  expect(analyzerStartDeadlineMs(env)).toBe(90_000);
});

test('the derived start deadline follows the session timeout; an explicit one wins', () => {
  const short = loadConfig(AnalyzerEnv, { ...base, OFFSITE_ANALYZER_SESSION_TIMEOUT_MS: '6000' });
  expect(analyzerStartDeadlineMs(short)).toBe(42_000);
  const long = loadConfig(AnalyzerEnv, { ...base, OFFSITE_ANALYZER_SESSION_TIMEOUT_MS: '45000' });
  expect(analyzerStartDeadlineMs(long)).toBeGreaterThan(45_000 * 2);
  const explicit = loadConfig(AnalyzerEnv, { ...base, OFFSITE_ANALYZER_START_DEADLINE_MS: '120000' });
  expect(analyzerStartDeadlineMs(explicit)).toBe(120_000);
});

test('a session timeout below the broker minimum (6 s) is a configuration error', () => {
  expect(() => loadConfig(AnalyzerEnv, { ...base, OFFSITE_ANALYZER_SESSION_TIMEOUT_MS: '1000' })).toThrow(
    /OFFSITE_ANALYZER_SESSION_TIMEOUT_MS/,
  );
});
