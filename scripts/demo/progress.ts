/**
 * Progress display of the demo: reads the simulator's stdout (JSON progress lines among its pino
 * logs), appends every line to the simulator's log file, and keeps one terminal line up to date
 * with simulated time, HJ 212 packets sent/acknowledged, MQTT messages and deviations opened so far
 * (the analyzer's counter from its /metrics, when the analyzer runs). Without a terminal it prints a
 * line every 10 s instead.
 *
 * Usage: simulator | progress.ts <log file> <result file> [analyzer metrics URL]
 * On stdin's end it writes the simulator's last progress as JSON to the result file (for the summary).
 */
import { createWriteStream } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { createInterface } from 'node:readline';

const [logPath, resultPath, metricsUrl] = process.argv.slice(2);
if (!logPath || !resultPath) {
  process.stderr.write('usage: progress.ts <log file> <result file> [analyzer metrics URL]\n');
  process.exit(64);
}
const log = createWriteStream(logPath, { flags: 'a' });
const tty = process.stdout.isTTY;

interface SimProgress {
  eventTime: string;
  start: string;
  hours: number;
  packetsGenerated: number;
  packetsAcked: number;
  valuesAcked: number;
  resends: number;
  cached: number;
  meterReadings: number;
  meterErrors: number;
  done: boolean;
}

let last: SimProgress | undefined;
let deviations: number | null = null;
const started = Date.now();
let lastPrinted = 0;

async function pollDeviations(): Promise<void> {
  if (!metricsUrl) return;
  try {
    const res = await fetch(metricsUrl, { signal: AbortSignal.timeout(800) });
    const text = await res.text();
    let sum = 0;
    for (const line of text.split('\n'))
      // Opened events count deviations; updates and resolutions are revisions of the same ones.
      if (line.startsWith('offsite_analyzer_deviation_events_total{state="opened"'))
        sum += Number(line.split(' ').pop());
    deviations = sum;
  } catch {
    deviations = null;
  }
}

const shanghai = (iso: string) =>
  new Date(Date.parse(iso) + 8 * 3_600_000).toISOString().slice(0, 16).replace('T', ' ');

function render(): void {
  if (!last) return;
  const p = last;
  const elapsed = (Date.parse(p.eventTime) - Date.parse(p.start)) / 3_600_000;
  const pct = p.hours > 0 ? Math.min(100, (elapsed / p.hours) * 100) : 0;
  const wall = Math.round((Date.now() - started) / 1000);
  const line =
    `模拟时间 ${shanghai(p.eventTime)} (+08:00) ${pct.toFixed(0).padStart(3)}% | ` +
    `HJ 212 sent ${p.packetsGenerated} acked ${p.packetsAcked}` +
    `${p.cached > 0 ? ` cached ${p.cached}` : ''}${p.resends > 0 ? ` resends ${p.resends}` : ''} | ` +
    `MQTT ${p.meterReadings}${p.meterErrors > 0 ? ` (errors ${p.meterErrors})` : ''} | ` +
    `deviations opened ${deviations === null ? 'n/a' : deviations} | ${wall}s`;
  if (tty) process.stdout.write(`\r\x1b[2K${line}`);
  else if (Date.now() - lastPrinted >= 10_000 || p.done) {
    lastPrinted = Date.now();
    process.stdout.write(`${line}\n`);
  }
}

const timer = setInterval(() => {
  void pollDeviations().then(render);
}, 1000);

const rl = createInterface({ input: process.stdin, crlfDelay: Infinity });
for await (const line of rl) {
  log.write(`${line}\n`);
  if (!line.startsWith('{"progress"')) continue;
  try {
    last = (JSON.parse(line) as { progress: SimProgress }).progress;
  } catch {
    // A partial line: the next one comes within a second.
  }
}
clearInterval(timer);
await pollDeviations();
render();
if (tty) process.stdout.write('\n');
await writeFile(resultPath, `${JSON.stringify(last ?? null)}\n`);
await new Promise<void>((resolve) => log.end(resolve));
