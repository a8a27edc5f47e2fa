export * from './model.js';
export * from './config.js';
export * from './errors.js';
export * from './time.js';
export * from './aggregate.js';
export * from './episodes.js';
export * from './registry.js';
export {
  Evaluator,
  flatRuns,
  mainStat,
  roundSignificant,
  seenAt,
  type EpisodeOut,
  type EvalInput,
  type EvalResult,
} from './rules.js';
export * from './engine.js';
export * from './rated.js';
export { interpolate, facilityCodeOf, productionRunsAt } from './treatment.js';
export * from './contract.js';
export * from './stability.js';
export * from './roles.js';
