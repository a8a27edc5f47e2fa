export { RegulationError, regulationError, type RegulationErrorCode } from './errors.js';
export { CAPABILITIES, inScope, requireCapability, type Capability, type Scope } from './scope.js';
export { seededPrng, seedState, xoshiro256starstar, type Prng } from './prng.js';
export { toCsv, type CsvCell } from './csv.js';
export * from './eligibility.js';
export * from './draw.js';
export * from './complaints.js';
export * from './outreach.js';
export * from './reports.js';
