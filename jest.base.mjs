// Shared Jest settings. Packages are ES modules written in TypeScript; tests consume them from source
// (the `offsite-source` condition of their `exports`, not the built dist/), so Jest runs in ESM mode and
// @swc/jest strips the types.
// Run through scripts/jest.sh so NODE_OPTIONS carries --experimental-vm-modules.
import { fileURLToPath } from 'node:url';

const kind = process.env.OFFSITE_TEST_KIND ?? 'unit';

const patterns = {
  unit: {
    testMatch: ['<rootDir>/src/**/*.test.ts', '<rootDir>/test/**/*.test.ts'],
    ignore: [
      '\\.int\\.test\\.ts$',
      '\\.flow\\.test\\.ts$',
      '\\.secure\\.test\\.ts$',
      '\\.cluster\\.test\\.ts$',
    ],
  },
  int: { testMatch: ['<rootDir>/src/**/*.int.test.ts', '<rootDir>/test/**/*.int.test.ts'], ignore: [] },
  flow: { testMatch: ['<rootDir>/**/*.flow.test.ts'], ignore: [] },
  // Against a secure set of servers (scripts/secure-transports.sh).
  secure: { testMatch: ['<rootDir>/**/*.secure.test.ts'], ignore: [] },
  // Against the clustered topology (`offsite-infra cluster up`, started by scripts/test-cluster.sh).
  cluster: { testMatch: ['<rootDir>/**/*.cluster.test.ts'], ignore: [] },
};
const p = patterns[kind];
if (!p) throw new Error(`OFFSITE_TEST_KIND must be unit, int, flow, secure or cluster, got ${kind}`);
// Tests against the servers run KafkaJS with the fast paths installed, as every service does.
const setupFiles =
  kind === 'unit'
    ? []
    : [fileURLToPath(new URL('./packages/kafka/test/install-fast-paths.ts', import.meta.url))];

export default {
  testEnvironment: 'node',
  setupFiles,
  testEnvironmentOptions: { customExportConditions: ['offsite-source', 'node', 'node-addons'] },
  testMatch: p.testMatch,
  testPathIgnorePatterns: ['/node_modules/', ...p.ignore],
  extensionsToTreatAsEsm: ['.ts'],
  moduleNameMapper: { '^(\\.{1,2}/.*)\\.js$': '$1' },
  transform: {
    '^.+\\.ts$': [
      '@swc/jest',
      { jsc: { parser: { syntax: 'typescript' }, target: 'es2022' }, module: { type: 'es6' } },
    ],
  },
  testTimeout: kind === 'unit' ? 10_000 : 120_000,
  maxWorkers: kind === 'unit' ? '50%' : 1,
};
