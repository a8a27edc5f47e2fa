/**
 * Units of HJ 212-2017 factors where the standard fixes them (Appendix B). Flow rates are left
 * without a unit: devices send m³/s or m³/h (domain-rules §1), so a unit here would be a guess.
 */
const CONCENTRATION: Readonly<Record<string, string>> = Object.freeze({
  // flue gas, mg/m³ (ASCII spelling as in the registry's permit limits)
  a21026: 'mg/m3',
  a21002: 'mg/m3',
  a34013: 'mg/m3',
  a21005: 'mg/m3',
  a24088: 'mg/m3',
  // wastewater
  w01018: 'mg/L',
  w21003: 'mg/L',
  w21011: 'mg/L',
  w21001: 'mg/L',
  w01012: 'mg/L',
  w01001: 'pH',
});

const CONDITION: Readonly<Record<string, string>> = Object.freeze({
  a19001: '%',
  a01011: 'm/s',
  a01012: '°C',
  a01013: 'kPa',
  a01014: '%',
});

/** Cumulative volume of the flow factors (`Cou`). */
const FLOW_COU: Readonly<Record<string, string>> = Object.freeze({ a00000: 'm3', w00000: 'm3' });

export function unitFor(factor: string, stat: string): string | undefined {
  if (stat === 'RT') return 'h';
  if (stat === 'RS') return undefined;
  if (stat === 'Cou') {
    // The cumulative value of a pollutant is its emitted mass over the interval (kg); pH has none.
    if (factor in FLOW_COU) return FLOW_COU[factor];
    if (factor === 'w01001') return undefined;
    return factor in CONCENTRATION ? 'kg' : undefined;
  }
  return CONCENTRATION[factor] ?? CONDITION[factor];
}
