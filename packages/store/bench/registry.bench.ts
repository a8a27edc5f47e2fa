// Prints how long importing a city-sized registry takes and how fast the gateway's MN lookup is.
// Not a test. Usage (from packages/store, servers up):
//   set -a; . ../../.offsite/env; set +a; node --conditions=offsite-source --import tsx bench/registry.bench.ts [enterprises=1000]
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import {
  creditCodeCheckCharacter,
  findDeviceByMn,
  importRegistry,
  loadRegistrySnapshot,
  runMigrations,
  type Logger,
} from '../src/index.js';

const n = Number(process.argv[2] ?? 1000);
const url = process.env.OFFSITE_PG_URL;
if (!url) throw new Error('OFFSITE_PG_URL is not set');
const quiet: Logger = { info() {}, warn() {}, error() {}, debug() {}, child: () => quiet };

function registry() {
  const enterprises = Array.from({ length: n }, (_, i) => {
    const k = String(i).padStart(5, '0');
    const body = `91990102MA${k}00`;
    return {
      id: `ent-${k}`,
      name: { zh: `压测企业${k}` },
      creditCode: body + creditCodeCheckCharacter(body),
      district: 'd1',
      industry: 'thermal-power',
      supervisionClass: 'key',
      outlets: [
        {
          id: `out-${k}-g1`,
          kind: 'gas',
          name: { zh: '1号排口' },
          refO2Pct: 6,
          devices: [{ mn: `9901${k}FG000000000001`, password: `pw${k}`, protocolVersion: 2017 }],
          limits: ['a21026', 'a21002', 'a34013'].map((factor) => ({
            factor,
            basis: 'hourly',
            value: 50,
            unit: 'mg/m3',
            converted: true,
          })),
        },
      ],
      meters: [
        { id: `mtr-${k}-p1`, role: 'production', name: { zh: '生产' } },
        { id: `mtr-${k}-t1`, role: 'treatment', name: { zh: '治污' }, serves: `mtr-${k}-p1` },
      ],
      contacts: [{ name: `联系人${k}`, role: 'legal', phone: '13800000000' }],
    };
  });
  return { version: 1, districts: [{ id: 'd1', name: { zh: '一区', en: 'District 1' } }], enterprises };
}

const schema = `bench_${randomBytes(4).toString('hex')}`;
const admin = new pg.Client({ connectionString: url });
await admin.connect();
await admin.query(`create schema ${schema}`);
const pool = new pg.Pool({ connectionString: url, options: `-c search_path=${schema}`, max: 8 });
try {
  await runMigrations(pool, { logger: quiet });
  const data = registry();
  const ms = (t: bigint) => (Number(process.hrtime.bigint() - t) / 1e6).toFixed(0);
  let t = process.hrtime.bigint();
  await importRegistry(pool, { data }, { logger: quiet });
  console.log(`first import of ${n} enterprises (${n * 9 + 1} rows): ${ms(t)} ms`);
  t = process.hrtime.bigint();
  const again = await importRegistry(pool, { data }, { logger: quiet });
  console.log(`repeat import (changed=${again.changed}): ${ms(t)} ms`);
  t = process.hrtime.bigint();
  const snap = await loadRegistrySnapshot(pool);
  console.log(`snapshot of ${snap.enterprises.length} enterprises: ${ms(t)} ms`);
  const lookups = 20_000;
  t = process.hrtime.bigint();
  await Promise.all(
    Array.from({ length: 8 }, async (_, w) => {
      for (let i = w; i < lookups; i += 8) {
        const d = await findDeviceByMn(pool, `9901${String(i % n).padStart(5, '0')}FG000000000001`);
        if (!d) throw new Error('lookup missed');
      }
    }),
  );
  const s = Number(process.hrtime.bigint() - t) / 1e9;
  console.log(`findDeviceByMn: ${lookups} lookups, 8 concurrent: ${(lookups / s).toFixed(0)}/s`);
} finally {
  await pool.end();
  await admin.query(`drop schema ${schema} cascade`);
  await admin.end();
}
