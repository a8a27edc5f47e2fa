// The operator commands' handling of bad input and settings, without servers: usage errors (exit 2),
// missing or invalid settings listed by variable name (exit 78), settings read as a unit gives them.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseEnvFile, unitEnvironment } from './settings.js';
import { runCli } from './run.test-fixtures.js';

const run = (argv: string[], env: Record<string, string> = {}, stdin = '') => runCli(argv, stdin, env);

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'offsite-cli-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const WRITER_OK = {
  OFFSITE_KAFKA_BROKERS: '127.0.0.1:9092',
  OFFSITE_INFLUX_URL: 'http://127.0.0.1:8086',
  OFFSITE_INFLUX_BUCKET: 'offsite/autogen',
};

describe('offsite config check', () => {
  it('accepts a valid environment and shows it with secrets redacted', async () => {
    const r = await run(['config', 'check', 'influx-writer', '--show'], {
      ...WRITER_OK,
      OFFSITE_INFLUX_TOKEN: 'user:s3cret-token',
    });
    expect(r).toMatchObject({ code: 0 });
    expect(r.out).toContain('influx-writer: configuration valid');
    expect(r.out).toContain('OFFSITE_INFLUX_TOKEN=[REDACTED]');
    expect(r.out + r.err).not.toContain('s3cret-token');
  });

  it('lists every problem by variable name and exits 78, as the service would', async () => {
    const r = await run(['config', 'check', 'influx-writer'], {
      OFFSITE_INFLUX_URL: 'not a url',
      OFFSITE_BATCH_MAX_POINTS: 'many',
      OFFSITE_RETRY_INITIAL_MS: '5000',
      OFFSITE_RETRY_MAX_MS: '100',
      OFFSITE_INFLUX_TOKN: 'typo',
    });
    expect(r.code).toBe(78);
    for (const name of [
      'OFFSITE_KAFKA_BROKERS',
      'OFFSITE_INFLUX_URL',
      'OFFSITE_INFLUX_BUCKET',
      'OFFSITE_BATCH_MAX_POINTS',
      'OFFSITE_RETRY_INITIAL_MS, OFFSITE_RETRY_MAX_MS',
    ])
      expect(r.out).toContain(`- ${name}:`);
    expect(r.err).toContain('note: OFFSITE_INFLUX_TOKN is not a setting of influx-writer');
  });

  it('checks the services’ own cross-checks (the alerter’s SMS provider settings)', async () => {
    const r = await run(['config', 'check', 'alerter'], {
      OFFSITE_KAFKA_BROKERS: '127.0.0.1:9092',
      OFFSITE_PG_URL: 'postgres://u:p@127.0.0.1/offsite',
      OFFSITE_REDIS_URL: 'redis://127.0.0.1:6379',
      OFFSITE_ALERTER_ACK_SECRET: 'a'.repeat(32),
      OFFSITE_ALERTER_SMS_PROVIDERS: 'aliyun',
    });
    expect(r.code).toBe(78);
    expect(r.out).toContain('aliyun SMS needs');
    expect(r.out).not.toContain('postgres://u:p@');
  });

  it('reads the settings a systemd unit gives: EnvironmentFile, Environment, %d credentials', async () => {
    const envFile = join(dir, 'influx-writer.env');
    writeFileSync(
      envFile,
      '# settings\nOFFSITE_KAFKA_BROKERS=10.0.0.1:9092,10.0.0.2:9092\nOFFSITE_INFLUX_URL="http://influx:8086"\n' +
        'OFFSITE_INFLUX_BUCKET=offsite/autogen\n',
    );
    const token = join(dir, 'influx-token');
    writeFileSync(token, 'writer:pw\n');
    const unit = join(dir, 'offsite-influx-writer.service');
    writeFileSync(
      unit,
      `[Service]\nEnvironmentFile=${envFile}\nEnvironment=NODE_ENV=production "OFFSITE_LOG_LEVEL=warn"\n` +
        `LoadCredential=influx-token:${token}\nEnvironment=OFFSITE_INFLUX_TOKEN_FILE=%d/influx-token\n`,
    );
    expect(unitEnvironment(unit)).toMatchObject({
      OFFSITE_KAFKA_BROKERS: '10.0.0.1:9092,10.0.0.2:9092',
      OFFSITE_INFLUX_URL: 'http://influx:8086',
      OFFSITE_LOG_LEVEL: 'warn',
      OFFSITE_INFLUX_TOKEN_FILE: token,
    });
    expect(await run(['config', 'check', 'influx-writer', '--unit', unit])).toMatchObject({ code: 0 });
    // A credential file that is not there is reported by the variable that names it.
    rmSync(token);
    const missing = await run(['config', 'check', 'influx-writer', '--unit', unit]);
    expect(missing.code).toBe(78);
    expect(missing.out).toContain(`OFFSITE_INFLUX_TOKEN_FILE: cannot read file ${token} (ENOENT)`);
  });

  it('refuses an unknown service and a malformed env file (exit 2)', async () => {
    const unknown = await run(['config', 'check', 'mailer']);
    expect(unknown.code).toBe(2);
    expect(unknown.err).toContain('unknown service "mailer"');
    const bad = join(dir, 'bad.env');
    writeFileSync(bad, 'OFFSITE_KAFKA_BROKERS=x\nthis is not a setting\n');
    const r = await run(['config', 'check', 'influx-writer', '--env-file', bad]);
    expect(r.code).toBe(2);
    expect(r.err).toContain(`${bad} line 2: not a NAME=value line`);
    expect(
      (await run(['config', 'check', 'influx-writer', '--env-file', join(dir, 'nope.env')])).err,
    ).toContain('cannot read env file');
  });
});

describe('operator commands without their settings', () => {
  it.each([
    [['migrate'], 'OFFSITE_PG_URL'],
    [['registry', 'import', 'registry/example.yaml'], 'OFFSITE_PG_URL'],
    [['user', 'disable', 'someone'], 'OFFSITE_PG_URL'],
    [['backup', 'kafka', '--out', '/tmp/x.json'], 'OFFSITE_KAFKA_BROKERS'],
  ])('offsite %j names the missing variable and exits 78', async (argv, variable) => {
    const r = await run(argv);
    expect(r.code).toBe(78);
    expect(r.err).toContain(`- ${variable}: is required but not set`);
  });

  it('reports usage errors with exit 2', async () => {
    expect((await run(['registry', 'import'])).code).toBe(2);
    expect((await run(['migrate', '--prune'])).code).toBe(2);
    const role = await run(['user', 'add', 'zhang', '--role', 'boss']);
    expect(role.code).toBe(2);
    expect(role.err).toContain('--role must be one of admin, city-supervisor');
    expect((await run(['user', 'add', 'zhang'])).err).toContain('--role is required');
    const short = await run(['user', 'reset-password', 'zhang', '--password-stdin'], {}, 'short\n');
    expect(short.code).toBe(2);
    expect(short.err).toContain('at least 12 characters');
    expect((await run(['backup', 'kafka'])).err).toContain('--out FILE is required');
    const notJson = join(dir, 'not.json');
    writeFileSync(notJson, 'hello');
    expect((await run(['restore', 'kafka', notJson])).err).toContain('is not JSON');
    writeFileSync(notJson, '{"topics": []}');
    expect((await run(['restore', 'kafka', notJson])).err).toContain(
      'is not an offsite Kafka metadata backup',
    );
    expect((await run(['restore', 'kafka', notJson, '--replication-factor', '0'])).code).toBe(2);
  });
});

describe('parseEnvFile', () => {
  it('reads NAME=value lines, quotes and comments as systemd does', () => {
    expect(parseEnvFile('# c\n; c\n\nA=1\nexport B="two words"\nC=\'x=y\'\n', 'f')).toEqual({
      A: '1',
      B: 'two words',
      C: 'x=y',
    });
  });
});

describe('offsite remote-sensing import', () => {
  const RS_OK = {
    OFFSITE_KAFKA_BROKERS: '127.0.0.1:9',
    OFFSITE_PG_URL: 'postgres://u:p@127.0.0.1:9/db',
    OFFSITE_PG_SCHEMA: 'offsite',
    OFFSITE_INFLUX_URL: 'http://127.0.0.1:9',
    OFFSITE_INFLUX_BUCKET: 'offsite/autogen',
  };

  it('is listed in the help and needs a FILE (exit 2)', async () => {
    expect((await run(['--help'])).out).toMatch(/offsite remote-sensing import +import remote-sensing/);
    const r = await run(['remote-sensing', 'import']);
    expect(r.code).toBe(2);
    expect(r.err).toContain('offsite remote-sensing import: give at least one detection FILE');
    expect((await run(['remote-sensing', 'import', 'a.csv', '--wind', 'N'])).code).toBe(2);
  });

  it('lists missing settings and bad city bounds by name (exit 78) before reading any file', async () => {
    const missing = await run(['remote-sensing', 'import', join(dir, 'none.csv')], {});
    expect(missing.code).toBe(78);
    expect(missing.err).toContain('OFFSITE_PG_URL');
    expect(missing.err).toContain('OFFSITE_INFLUX_BUCKET');
    const swapped = await run(['remote-sensing', 'import', join(dir, 'none.csv')], {
      ...RS_OK,
      OFFSITE_CITY_BOUNDS: '30.5,120,30.1,120.5',
    });
    expect(swapped.code).toBe(78);
    expect(swapped.err).toContain('offsite remote-sensing import: OFFSITE_CITY_BOUNDS needs');
  });

  it('names every file that cannot be read, in English and Chinese, and connects to nothing (exit 1)', async () => {
    const a = join(dir, 'a.csv');
    const b = join(dir, 'b.geojson');
    const r = await run(['remote-sensing', 'import', a, b], RS_OK);
    expect(r).toMatchObject({ code: 1, out: '' });
    expect(r.err.trim().split('\n')).toEqual([
      `offsite remote-sensing import: ${a}: file: cannot be read (ENOENT); nothing was imported / 文件无法读取（ENOENT），未导入任何文件`,
      `offsite remote-sensing import: ${b}: file: cannot be read (ENOENT); nothing was imported / 文件无法读取（ENOENT），未导入任何文件`,
    ]);
  });
});
