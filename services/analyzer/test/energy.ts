// Energy data of a production meter for the rated-energy tests: cumulative kWh every minute, 15-minute
// windows mostly 5 kWh and every 4th 2 kWh, stopped at night (22:00–06:00 Asia/Shanghai). The mode of
// the windows above their mean is 5.
import { toLine } from '@offsite/influx';

const MIN = 60_000;
const HOUR = 60 * MIN;

export function meterEnergyLines(enterprise: string, meter: string, from: number, to: number): string[] {
  const lines: string[] = [];
  let cou = 1000;
  for (let t = from; t < to; t += MIN) {
    const local = new Date(t + 8 * HOUR).getUTCHours();
    const running = local >= 6 && local < 22;
    const window = Math.floor((t - from) / (15 * MIN));
    if (running) cou += (window % 4 === 0 ? 2 : 5) / 15;
    lines.push(
      toLine({
        measurement: 'energy',
        tags: { enterprise, site: meter, device: meter, factor: 'energy_kwh', interval: 'minute' },
        fields: { Cou: Math.round(cou * 1000) / 1000 },
        timeSeconds: t / 1000,
      }),
    );
  }
  return lines;
}
