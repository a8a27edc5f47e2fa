/**
 * Daily production patterns and per-factor value models. Pure: values depend on the event time,
 * the enterprise's profile and a noise state that the caller advances.
 */
import type { Rng } from './rng.js';

export type LoadProfile = 'continuous' | 'day-shift' | 'two-shift';

/** Industries that run around the clock; everything else works shifts. */
const CONTINUOUS = new Set([
  'thermal-power',
  'heat-supply',
  'waste-incineration',
  'sewage-treatment',
  'steel',
]);

export function profileFor(industry: string, index: number): LoadProfile {
  if (CONTINUOUS.has(industry)) return 'continuous';
  return index % 2 === 0 ? 'day-shift' : 'two-shift';
}

/** Linear ramp between two levels over [from, to) hours. */
function ramp(h: number, from: number, to: number, a: number, b: number): number {
  if (h <= from) return a;
  if (h >= to) return b;
  return a + ((b - a) * (h - from)) / (to - from);
}

/**
 * Production load as a fraction of rated (0..1) at local hour `h`. Continuous plants follow the
 * city's demand (morning and evening peaks, night trough); shift plants run low at night.
 */
export function productionLoad(profile: LoadProfile, h: number): number {
  switch (profile) {
    case 'continuous':
      return (
        0.78 + 0.1 * Math.sin((2 * Math.PI * (h - 8)) / 24) + 0.06 * Math.sin((4 * Math.PI * (h - 7)) / 24)
      );
    case 'day-shift':
      return h < 12 ? ramp(h, 7.5, 8.25, 0.12, 0.92) : ramp(h, 18, 18.75, 0.92, 0.12);
    case 'two-shift':
      return h < 12 ? ramp(h, 5.75, 6.5, 0.1, 0.88) : ramp(h, 22, 22.75, 0.88, 0.1);
  }
}

export type FactorKind = 'pollutant' | 'o2' | 'flow' | 'aux';

export interface FactorModel {
  readonly code: string;
  readonly kind: FactorKind;
  readonly unit: string;
  /** Decimal places the analyser reports. */
  readonly precision: number;
  /** Typical value at full load when there is no permit limit to scale from. */
  readonly typical: number;
  /** Relative noise (standard deviation of the slow AR(1) component). */
  readonly noise: number;
}

const M = (
  code: string,
  kind: FactorKind,
  unit: string,
  precision: number,
  typical: number,
  noise: number,
): FactorModel => ({ code, kind, unit, precision, typical, noise });

export const FACTOR_MODELS: Readonly<Record<string, FactorModel>> = {
  a00000: M('a00000', 'flow', 'm3/h', 1, 320_000, 0.03),
  a19001: M('a19001', 'o2', '%', 2, 8, 0.03),
  a01011: M('a01011', 'aux', 'm/s', 2, 14, 0.03),
  a01012: M('a01012', 'aux', '℃', 1, 55, 0.02),
  a01013: M('a01013', 'aux', 'kPa', 3, -0.35, 0.05),
  a01014: M('a01014', 'aux', '%', 2, 8, 0.04),
  a21026: M('a21026', 'pollutant', 'mg/m3', 1, 20, 0.08),
  a21002: M('a21002', 'pollutant', 'mg/m3', 1, 40, 0.08),
  a34013: M('a34013', 'pollutant', 'mg/m3', 2, 5, 0.1),
  a21005: M('a21005', 'pollutant', 'mg/m3', 1, 30, 0.1),
  a21024: M('a21024', 'pollutant', 'mg/m3', 2, 5, 0.1),
  a24088: M('a24088', 'pollutant', 'mg/m3', 2, 10, 0.1),
  w00000: M('w00000', 'flow', 'm3/h', 2, 120, 0.05),
  w01001: M('w01001', 'aux', 'pH', 2, 7.3, 0.01),
  w01018: M('w01018', 'pollutant', 'mg/L', 1, 40, 0.07),
  w21003: M('w21003', 'pollutant', 'mg/L', 2, 3, 0.08),
  w21011: M('w21011', 'pollutant', 'mg/L', 3, 0.3, 0.08),
  w21001: M('w21001', 'pollutant', 'mg/L', 2, 10, 0.07),
  w01012: M('w01012', 'pollutant', 'mg/L', 1, 15, 0.08),
};

export function factorModel(code: string): FactorModel {
  return FACTOR_MODELS[code] ?? M(code, 'pollutant', code.startsWith('w') ? 'mg/L' : 'mg/m3', 2, 10, 0.08);
}

/** Auxiliary factors every logger of this kind reports besides its permit's pollutants. */
export const GAS_AUX = ['a00000', 'a19001', 'a01011', 'a01012', 'a01013', 'a01014'] as const;
export const WATER_AUX = ['w00000', 'w01001'] as const;

/** Slow AR(1) noise: correlated over minutes, like drift in a real analyser. */
export class Ar1 {
  private x = 0;
  constructor(
    private readonly rng: Rng,
    private readonly phi = 0.95,
  ) {}
  step(): number {
    this.x = this.phi * this.x + Math.sqrt(1 - this.phi * this.phi) * this.rng.normal();
    return this.x;
  }
}

export function roundTo(value: number, precision: number): number {
  const f = 10 ** precision;
  return Math.round(value * f) / f;
}

/** Reference-O2 conversion (折算): C_zs = C × (21 − ref) / (21 − O2). */
export function converted(c: number, o2: number, refO2: number): number {
  return (c * (21 - refO2)) / (21 - o2);
}
