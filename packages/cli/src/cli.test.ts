import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { runCli } from './run.test-fixtures.js';

const fixture = (name: string): string => fileURLToPath(new URL(`../test/fixtures/${name}`, import.meta.url));
const standard = fixture('standard-examples.txt');
const field = fixture('field-captures.txt');
/** The codec's quirk fixtures (one comment line above each packet). */
const quirks = ((): { comment: string; line: string }[] => {
  const lines = readFileSync(
    fileURLToPath(new URL('../../hj212/test/fixtures/field-quirks.txt', import.meta.url)),
    'utf8',
  ).split('\n');
  return lines.flatMap((line, i) =>
    line.startsWith('##') ? [{ comment: (lines[i - 1] ?? '').replace(/^# /, ''), line }] : [],
  );
})();
const packetLinesOf = (file: string): string[] =>
  readFileSync(file, 'utf8')
    .split('\n')
    .filter((l) => l.startsWith('##'));

const run = (argv: string[], stdin = '') => runCli(argv, stdin);

const jsonLines = (out: string): Array<Record<string, unknown>> =>
  out
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as Record<string, unknown>);

describe('offsite hj212 decode', () => {
  it('prints one JSON object per packet of the standard examples', async () => {
    const { code, out } = await run(['hj212', 'decode', standard]);
    expect(code).toBe(0);
    const rows = jsonLines(out);
    expect(rows).toHaveLength(6);
    expect(rows[1]).toMatchObject({
      line: 7,
      ok: true,
      crc: { valid: true, expected: 'B7C1', actual: 'B7C1', variant: 'hj212' },
      version: '2017',
      qn: '20160801090000001',
      st: '32',
      cn: '2061',
      pw: '123456',
      mn: '010000A8900016F000169DC0',
      flag: 5,
      ackRequested: true,
      pnum: null,
      pno: null,
      dataTime: '2016-08-01T08:00:00+08:00',
      flags: { w00000: 'N', w01001: 'N', w01018: 'N' },
      irregularities: [],
    });
    expect((rows[1]!.values as unknown[])[0]).toEqual({ code: 'w00000', stat: 'Cou', value: 63 });
    expect(rows[5]).toMatchObject({
      cn: '3020',
      texts: [{ code: 'i11001', stat: 'Info', text: '清洗管路' }],
    });
  });

  it('lists irregularities and original 2005 codes of the field captures', async () => {
    const { code, out } = await run(['hj212', 'decode', field]);
    expect(code).toBe(0);
    const rows = jsonLines(out);
    expect(rows).toHaveLength(6);
    expect(rows[2]).toMatchObject({
      ok: true,
      version: null,
      flag: null,
      qn: null,
      crc: { valid: true, variant: 'modbus-swapped', actual: 'A6EC', expected: '0440' },
    });
    expect(rows[2]!.irregularities).toEqual(
      expect.arrayContaining([
        'crc-modbus-swapped',
        'missing-qn',
        'missing-flag',
        'factor-code-2005',
        'mn-nonstandard',
      ]),
    );
    expect((rows[2]!.values as unknown[])[0]).toEqual({
      code: '112',
      stat: 'Rtd',
      value: 11.285,
      originalCode: '112',
    });
  });

  it('--strict rejects the irregular captures with exit code 1', async () => {
    const { code, out } = await run(['hj212', 'decode', '--strict', field]);
    expect(code).toBe(1);
    const rows = jsonLines(out);
    expect(rows.every((r) => r.ok === false)).toBe(true);
    expect(rows[2]).toMatchObject({
      ok: false,
      error: { code: 'crc-modbus-swapped' },
      crc: { variant: 'modbus-swapped' },
      mn: '4201003',
    });
    expect(rows[4]!.error).toMatchObject({ code: 'crc-modbus-swapped' });
    expect(rows[5]!.error).toMatchObject({ code: 'crc-modbus-swapped' });
  });

  it('reads stdin with CR LF, skips blank and comment lines, reports bad packets', async () => {
    const [first] = packetLinesOf(standard);
    const { code, out } = await run(['hj212', 'decode'], `# comment\r\n\r\n${first}\r\nnot a packet\n`);
    expect(code).toBe(1);
    const rows = jsonLines(out);
    expect(rows).toHaveLength(2);
    expect(rows[0]).toMatchObject({ line: 3, ok: true, cn: '1062' });
    expect(rows[1]).toMatchObject({
      line: 4,
      ok: false,
      error: { code: 'frame-malformed' },
      crc: null,
      cn: null,
    });
  });

  it('reports a line of one "#" and digits (a frame that lost a "#") as rejected, and still skips comments', async () => {
    const [first] = packetLinesOf(standard);
    const { code, out } = await run(['hj212', 'decode'], `#comment\n# another\n${first!.slice(1)}\n`);
    expect(code).toBe(1);
    const rows = jsonLines(out);
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({ line: 3, ok: false, error: { code: 'frame-malformed' } });
    expect((rows[0]!.error as { message: string }).message).toContain('"#"');
  });

  it('decodes Flag=3 without PNUM/PNO with its version; strict rejects it and still shows the version', async () => {
    const line = quirks.find((q) => q.comment.startsWith('split-without-pnum'))!.line;
    const tolerant = jsonLines((await run(['hj212', 'decode'], `${line}\n`)).out);
    expect(tolerant[0]).toMatchObject({ ok: true, version: '2005', irregularities: ['split-without-pnum'] });
    const strict = jsonLines((await run(['hj212', 'decode', '--strict'], `${line}\n`)).out);
    expect(strict[0]).toMatchObject({ ok: false, version: '2005', error: { code: 'split-without-pnum' } });
  });

  it('acks a packet whose MN a reply cannot carry without throwing', async () => {
    const lines = quirks.filter((q) => q.comment.includes('mn-nonstandard')).map((q) => q.line);
    const { out } = await run(['hj212', 'ack'], `${lines.join('\n')}\n`);
    const replies = out.trim().split('\n');
    expect(replies).toHaveLength(2);
    expect(replies[0]).toMatch(
      /^##\d{4}QN=20200922110000005;ST=91;CN=9014;PW=123456;Flag=4;CP=&&&&[0-9A-F]{4}$/,
    );
    expect(replies[1]).toMatch(/^# line 2: no reply: .*no QN or MN a reply can carry$/);
  });

  it.each([
    [['hj212', 'decode', '--bogus']],
    [['hj212', 'decode', 'a', 'b']],
    [['hj212', 'decode', '/nonexistent/file']],
    [['hj212', 'nope']],
    [[]],
  ])('exits 2 on usage errors: %j', async (argv) => {
    const { code, err } = await run(argv);
    expect(code).toBe(2);
    expect(err).toMatch(/Usage: offsite/);
  });

  it('prints help with exit code 0', async () => {
    expect(await run(['--help'])).toMatchObject({ code: 0, out: expect.stringMatching(/hj212 decode/) });
    expect(await run(['hj212', 'ack', '--help'])).toMatchObject({
      code: 0,
      out: expect.stringMatching(/9014/),
    });
  });
});

describe('offsite hj212 ack', () => {
  it('answers the standard examples: 9011 for the request, the fixture 9014 for the upload', async () => {
    const lines = packetLinesOf(standard);
    const { code, out } = await run(['hj212', 'ack', standard]);
    expect(code).toBe(0);
    const replies = out.trim().split('\n');
    expect(replies).toHaveLength(6);
    expect(replies[0]).toBe(
      '##0094QN=20160801085857223;ST=91;CN=9011;PW=100000;MN=010000A8900016F000169DC0;Flag=4;CP=&&QnRtn=1&&E101',
    );
    expect(replies[1]).toBe(lines[2]);
    expect(replies[2]).toMatch(/^# line 9: no reply: reply 9014/);
    expect(replies[5]).toMatch(/CN=9014;.*CP=&&&&[0-9A-F]{4}$/);
  });

  it('answers a corrupted packet with QnRtn=9 and exits 1', async () => {
    const bad = packetLinesOf(standard)[0]!.replace(/1C80$/, '1C81');
    const { code, out } = await run(['hj212', 'ack', '-'], `${bad}\n`);
    expect(code).toBe(1);
    expect(out).toMatch(/^##\d{4}QN=20160801085857223;ST=91;CN=9011;.*CP=&&QnRtn=9&&[0-9A-F]{4}\n$/);
  });

  it('--strict answers a modbus-CRC upload with QnRtn=9', async () => {
    const capture = packetLinesOf(field)[5]!;
    const { out } = await run(['hj212', 'ack', '--strict'], capture);
    expect(out).toMatch(
      /QN=20200924101500117;ST=91;CN=9011;PW=123456;MN=88888880000001;Flag=4;CP=&&QnRtn=9&&/,
    );
  });
});

describe('the offsite binary', () => {
  // Two processes that each load every command's modules through tsx: slow on a busy machine.
  it('runs from source through tsx and sets the exit code', async () => {
    const main = fileURLToPath(new URL('./main.ts', import.meta.url));
    const root = fileURLToPath(new URL('../../..', import.meta.url));
    const exec = promisify(execFile);
    const { stdout } = await exec(
      process.execPath,
      ['--conditions=offsite-source', '--import', 'tsx', main, 'hj212', 'decode', standard],
      {
        cwd: root,
        env: { ...process.env, NODE_OPTIONS: '' },
      },
    );
    expect(stdout.trim().split('\n')).toHaveLength(6);
    await expect(
      exec(
        process.execPath,
        ['--conditions=offsite-source', '--import', 'tsx', main, 'hj212', 'decode', '--strict', field],
        {
          cwd: root,
          env: { ...process.env, NODE_OPTIONS: '' },
        },
      ),
    ).rejects.toMatchObject({ code: 1 });
  }, 60_000);
});
