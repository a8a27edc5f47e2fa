// Mapping of the engine's rule names and severities onto the `deviation.v1` contract vocabularies
// (schemas/deviation.v1.schema.json). The engine keeps finer rule names (three abnormal-flag cases) and a
// four-step severity scale; services publish the contract's names and keep the domain's in evidence params.
import type { RuleName, Severity } from './model.js';

/** `deviation.v1` rule enum. */
export type ContractRuleName =
  | 'exceedance'
  | 'treatment-idle'
  | 'treatment-late-start'
  | 'treatment-early-stop'
  | 'flatline'
  | 'zero-while-running'
  | 'out-of-range'
  | 'offline'
  | 'low-capture'
  | 'abnormal-flag'
  | 'o2-near-ambient'
  | 'clustered-below-limit'
  | 'inconsistent-aggregate'
  | 'annual-load'
  | 'production-emission'
  | 'peers'
  | 'cross-device'
  | 'remote-sensing'
  | 'discharge-outside-hours';

/** `deviation.v1` severity enum. */
export type ContractSeverity = 'info' | 'low' | 'medium' | 'high' | 'critical';

const RULES: Readonly<Record<RuleName, ContractRuleName>> = {
  exceedance: 'exceedance',
  'treatment-idle': 'treatment-idle',
  'treatment-late-start': 'treatment-late-start',
  'treatment-early-stop': 'treatment-early-stop',
  flatline: 'flatline',
  'zero-while-running': 'zero-while-running',
  'out-of-range': 'out-of-range',
  offline: 'offline',
  'low-capture': 'low-capture',
  // One contract rule for every abnormal-flag case (D/B too long, S, M outside the declared window).
  'fault-flag': 'abnormal-flag',
  'manual-flag': 'abnormal-flag',
  'maintenance-overrun': 'abnormal-flag',
  'o2-near-ambient': 'o2-near-ambient',
  'clustered-below-limit': 'clustered-below-limit',
  'inconsistent-aggregate': 'inconsistent-aggregate',
  'annual-load': 'annual-load',
  'production-emission': 'production-emission',
  peers: 'peers',
  'cross-device': 'cross-device',
  'remote-sensing': 'remote-sensing',
  'discharge-outside-hours': 'discharge-outside-hours',
};

/** The contract rule a domain rule is published as (several domain rules map to `abnormal-flag`). */
export function contractRuleOf(rule: RuleName): ContractRuleName {
  return RULES[rule];
}

/** Domain severity → contract severity: the domain grades minor/major/critical, the contract low…critical. */
export const severityToContract: Readonly<Record<Severity, ContractSeverity>> = {
  info: 'info',
  minor: 'medium',
  major: 'high',
  critical: 'critical',
};
