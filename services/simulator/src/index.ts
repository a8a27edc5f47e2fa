/** Public surface of the simulator for tests and flows (the process itself is src/main.ts). */
export { createRng, deriveSeed, streamRng, type Rng } from './rng.js';
export { buildFleet, type Fleet, type LoggerSpec, type MeterSpec, type EnterpriseSpec } from './fleet.js';
export { productionLoad, converted, FACTOR_MODELS, type LoadProfile } from './patterns.js';
export {
  planStandardScenarios,
  activeScenario,
  SCENARIO_KINDS,
  type Scenario,
  type ScenarioKind,
} from './scenarios.js';
export { DataLoggerModel, aggregateFlag, type Upload } from './logger-model.js';
export { MeterModel, type MeterPublish } from './meter-model.js';
export { createSimulation, type Simulation, type Output } from './simulation.js';
export { Hj212Link, type LinkOptions } from './hj212-link.js';
export { createDriver, type Driver, type Progress, type MeterPublisher } from './driver.js';
export { historyOutputs, type HistoryOptions } from './history.js';
export { createMqttPublisher } from './mqtt-publisher.js';
export { generateRegistry, fitToDay } from './registry-gen.js';
export { planRun, parseRegistryText, parseScenarioKinds, defaultStart, type RunPlan } from './plan.js';
