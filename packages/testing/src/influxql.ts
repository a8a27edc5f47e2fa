/** Runs InfluxQL on InfluxDB 1.x's /query and returns the first statement's rows as objects (`_measurement`, tags, columns). */
export async function influxql(
  url: string,
  token: string,
  db: string,
  q: string,
): Promise<Record<string, unknown>[]> {
  const res = await fetch(`${url}/query?db=${encodeURIComponent(db)}&epoch=s&q=${encodeURIComponent(q)}`, {
    method: 'POST',
    headers: token ? { authorization: `Token ${token}` } : {},
  });
  if (!res.ok) throw new Error(`InfluxQL ${q}: HTTP ${res.status} ${await res.text()}`);
  const body = (await res.json()) as {
    results: {
      error?: string;
      series?: { name: string; tags?: Record<string, string>; columns: string[]; values: unknown[][] }[];
    }[];
  };
  const r = body.results[0];
  if (r?.error) throw new Error(`InfluxQL ${q}: ${r.error}`);
  const rows: Record<string, unknown>[] = [];
  for (const s of r?.series ?? []) {
    for (const v of s.values) {
      const row: Record<string, unknown> = { _measurement: s.name, ...(s.tags ?? {}) };
      s.columns.forEach((c, i) => (row[c] = v[i]));
      rows.push(row);
    }
  }
  return rows;
}
