// Prints the size of the web app's build per chunk (raw and gzip, in KiB) and what the first page loads:
// index.html's entry script, its stylesheets and the chunks it preloads. Run after `npm run build:web`:
//   node --import tsx scripts/bundle-size.ts [dist folder, default web/dist]
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';

const dist = process.argv[2] ?? fileURLToPath(new URL('../web/dist/', import.meta.url));

interface Chunk {
  file: string;
  raw: number;
  gzip: number;
  first: boolean;
}

const html = readFileSync(join(dist, 'index.html'), 'utf8');
/** The assets index.html names (entry script, stylesheets, module preloads): what the first page loads. */
const firstLoad = new Set([...html.matchAll(/(?:src|href)="\/?(assets\/[^"]+)"/g)].map((m) => m[1]));

const chunks: Chunk[] = readdirSync(join(dist, 'assets'))
  .filter((f) => f.endsWith('.js') || f.endsWith('.css'))
  .map((f) => {
    const bytes = readFileSync(join(dist, 'assets', f));
    return {
      file: f,
      raw: bytes.length,
      gzip: gzipSync(bytes, { level: 9 }).length,
      first: firstLoad.has(`assets/${f}`),
    };
  })
  .sort((a, b) => b.raw - a.raw);

const kib = (n: number) => (n / 1024).toFixed(1).padStart(9);
const sum = (cs: Chunk[], k: 'raw' | 'gzip') => cs.reduce((s, c) => s + c[k], 0);
const width = Math.max(...chunks.map((c) => c.file.length), 5);

console.log(`${'chunk'.padEnd(width)}  ${'raw KiB'.padStart(9)}  ${'gzip KiB'.padStart(9)}  first page`);
for (const c of chunks)
  console.log(`${c.file.padEnd(width)}  ${kib(c.raw)}  ${kib(c.gzip)}  ${c.first ? 'yes' : ''}`);
for (const [label, cs] of [
  ['first page, JS', chunks.filter((c) => c.first && c.file.endsWith('.js'))],
  ['first page, CSS', chunks.filter((c) => c.first && c.file.endsWith('.css'))],
  ['all chunks, JS', chunks.filter((c) => c.file.endsWith('.js'))],
  ['all chunks, CSS', chunks.filter((c) => c.file.endsWith('.css'))],
] as const)
  console.log(`${label.padEnd(width)}  ${kib(sum(cs, 'raw'))}  ${kib(sum(cs, 'gzip'))}`);
