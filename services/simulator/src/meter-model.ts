/**
 * One electricity sub-meter (分表计电) as a pure state machine: every `intervalS` of event time it
 * reports active power, its cumulative energy register and whether the equipment runs, as the
 * meter-energy.v1 JSON payload on offsite/v1/{enterpriseId}/meters/{meterId}/energy.
 */
import { mqttTopics, type MeterEnergyV1 } from '@offsite/contracts';
import { shanghaiHour } from '@offsite/domain/calendar';
import type { MeterSpec } from './fleet.js';
import { productionLoad, roundTo, type LoadProfile } from './patterns.js';
import { streamRng, type Rng } from './rng.js';
import { activeScenario, type Scenario } from './scenarios.js';

export interface MeterPublish {
  readonly meterId: string;
  readonly enterpriseId: string;
  readonly topic: string;
  readonly payload: MeterEnergyV1;
  readonly sentAt: number;
  readonly username: string | null;
}

/** Below this share of rated power the metered equipment counts as stopped. */
const RUNNING_SHARE = 0.05;

export class MeterModel {
  private readonly rng: Rng;
  private register: number;
  private next: number;
  private last: number;
  private readonly topic: string;

  constructor(
    readonly spec: MeterSpec,
    private readonly profile: LoadProfile,
    private readonly scenarios: readonly Scenario[],
    seed: number,
    start: number,
    private readonly intervalS = 60,
  ) {
    this.rng = streamRng(seed, `meter:${spec.meterId}`);
    this.register = roundTo(10_000 + this.rng.next() * 490_000, 2);
    const step = intervalS * 1000;
    this.next = Math.ceil(start / step) * step;
    this.last = this.next;
    this.topic = mqttTopics.meterEnergy.topic({ enterpriseId: spec.enterpriseId, meterId: spec.meterId });
  }

  nextDue(): number {
    return this.next;
  }

  /** Rated power (kW) from the rated 15-minute window energy. */
  get ratedKw(): number {
    return this.spec.ratedWindowKwh * 4;
  }

  /** Power share of rated at t, before noise. */
  share(t: number): number {
    const load = productionLoad(this.profile, shanghaiHour(t));
    if (this.spec.role === 'treatment') {
      if (activeScenario(this.scenarios, 'treatment-off', this.spec.meterId, t)) return 0.02;
      // Fans and pumps run near their rating whenever production runs, idling lower at night.
      return load < 0.2 ? 0.3 : 0.6 + 0.35 * load;
    }
    if (this.spec.role === 'total') return 0.25 + 0.6 * load;
    return load;
  }

  advanceTo(t: number): MeterPublish[] {
    const out: MeterPublish[] = [];
    while (this.next <= t) {
      const now = this.next;
      const powerKw = roundTo(
        Math.max(0, this.ratedKw * this.share(now) * (1 + 0.03 * this.rng.normal())),
        2,
      );
      this.register = roundTo(this.register + (powerKw * (now - this.last)) / 3_600_000, 2);
      this.last = now;
      out.push({
        meterId: this.spec.meterId,
        enterpriseId: this.spec.enterpriseId,
        topic: this.topic,
        sentAt: now,
        username: this.spec.mqttUsername,
        payload: {
          ts: new Date(now).toISOString(),
          powerKw,
          energyKwh: this.register,
          status: powerKw >= this.ratedKw * RUNNING_SHARE ? 'running' : 'stopped',
        },
      });
      this.next += this.intervalS * 1000;
    }
    return out;
  }
}
