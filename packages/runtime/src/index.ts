// Public surface of @offsite/runtime. Modules inside this package import each other directly,
// never this file. Packages that need only one capability can use its subpath
// (`@offsite/runtime/errors` has no dependencies; `/config` pulls Ajv, `/logger` pulls pino).
export {
  OffsiteError,
  errorCode,
  errorMessage,
  hasCode,
  isOffsiteError,
  isRetryable,
  toOffsiteError,
  type OffsiteErrorOptions,
} from './errors.js';
export { DEADLINE_EXCEEDED, DeadlineExceededError, withTimeout, type Abortable } from './deadline.js';
export {
  CONFIG_INVALID,
  ConfigError,
  FILE_SUFFIX,
  REDACTED,
  loadConfig,
  redact,
  secretKeys,
  type ConfigCheck,
  type ConfigIssue,
  type DeepReadonly,
  type Environment,
  type LoadConfigOptions,
} from './config.js';
export {
  LOG_LEVELS,
  SECRET_FIELD_NAMES,
  createLogger,
  createSilentLogger,
  type CreateLoggerOptions,
  type LogFn,
  type LogLevel,
  type Logger,
} from './logger.js';
export {
  createMetricsRegistry,
  defineMetrics,
  type CounterDefinition,
  type CreateMetricsRegistryOptions,
  type GaugeDefinition,
  type HistogramDefinition,
  type MetricDefinition,
  type MetricFor,
  type Metrics,
  type Registry,
} from './metrics.js';
export {
  evaluateHealth,
  type ComponentHealth,
  type HealthCheck,
  type HealthStatus,
  type ReadinessReport,
} from './health.js';
export { startOpsServer, type OpsServer, type OpsServerOptions } from './ops-server.js';
export {
  LifecycleError,
  createLifecycle,
  installSignalHandlers,
  type Component,
  type Lifecycle,
  type LifecycleErrorCode,
  type LifecycleOptions,
  type LifecycleState,
  type ShutdownOptions,
  type ShutdownResult,
  type SignalHandlerOptions,
  type SignalProcess,
  type StepFailure,
} from './lifecycle.js';
export { createMemoryLogger, type LogEntry, type MemoryLogger } from './memory-logger.js';
export {
  EXIT_CONFIG,
  bootService,
  type BootServiceOptions,
  type ServiceBaseEnv,
  type ServiceConfig,
  type ServiceKit,
  type ServiceProcess,
} from './service.js';
export { redisConnectionOptions, type RedisConnectionOptions, type RedisTlsOptions } from './redis-url.js';
export {
  InfluxTlsEnv,
  KafkaSecurityEnv,
  MqttTlsEnv,
  PgSchema,
  pgSessionOptions,
  PgUrl,
  RedisTlsEnv,
  RedisUrl,
  influxConnection,
  kafkaSecurity,
  readCaFile,
  redisTls,
  type KafkaSecurity,
} from './transports.js';
