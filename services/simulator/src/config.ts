/** The simulator's environment, validated once at the edge (names as in .offsite/env for servers). */
import { Type } from '@sinclair/typebox';
import { MqttTlsEnv, type ServiceConfig } from '@offsite/runtime';

export const SimulatorEnv = Type.Object({
  OFFSITE_LOG_LEVEL: Type.Union([Type.Literal('debug'), Type.Literal('info'), Type.Literal('warn')], {
    default: 'info',
  }),
  OFFSITE_OPS_PORT: Type.Integer({ minimum: 0, maximum: 65535, default: 9108 }),
  OFFSITE_OPS_HOST: Type.String({ default: '127.0.0.1' }),
  /** Registry file the fleet comes from (YAML or JSON). */
  OFFSITE_SIM_REGISTRY: Type.String({ default: 'registry/example.yaml' }),
  /** Clone the registry's enterprises up to this many (0 = as in the file). */
  OFFSITE_SIM_ENTERPRISES: Type.Integer({ minimum: 0, default: 0 }),
  OFFSITE_SIM_SEED: Type.Integer({ default: 212 }),
  /** Event time the run starts at (ISO 8601 with offset); default: yesterday 00:00 Asia/Shanghai. */
  OFFSITE_SIM_START: Type.Optional(Type.String()),
  /** Event-time hours to simulate; 0 = until stopped. */
  OFFSITE_SIM_HOURS: Type.Number({ minimum: 0, default: 24 }),
  /** Event seconds per wall second: 1 = live, 240 = 4 h per minute, 0 = load mode (as fast as acks come). */
  OFFSITE_SIM_SPEED: Type.Number({ minimum: 0, default: 240 }),
  /** Comma-separated scenario kinds, or "none". */
  OFFSITE_SIM_SCENARIOS: Type.String({ default: 'treatment-off,exceedance,flatline,offline,maintenance' }),
  /** Comma-separated enterprise ids whose loggers and meters stay disconnected for the whole run. */
  OFFSITE_SIM_SILENT: Type.String({ default: '' }),
  OFFSITE_SIM_ACK_TIMEOUT_MS: Type.Integer({ minimum: 10, default: 3000 }),
  OFFSITE_SIM_MAX_BACKLOG: Type.Integer({ minimum: 1, default: 2000 }),
  /** After an outage a logger replays at most this many cached uploads, the newest (a partial cache; the rest is for the centre's backfill). Default: all. */
  OFFSITE_SIM_REPLAY_LIMIT: Type.Optional(Type.Integer({ minimum: 0 })),
  /**
   * Days of history sent after the run for the emission-drop scenario's enterprise (its loggers' hourly data, its
   * production meters every 15 min), ending 2 days before the start (history.ts); 0 = none. Needs OFFSITE_SIM_HOURS > 0.
   */
  OFFSITE_SIM_HISTORY_DAYS: Type.Integer({ minimum: 0, maximum: 90, default: 0 }),
  /** HJ 212 gateway; empty host = do not send HJ 212 (dry run). */
  OFFSITE_HJ212_HOST: Type.String({ default: '127.0.0.1' }),
  OFFSITE_HJ212_PORT: Type.Integer({ minimum: 1, maximum: 65535, default: 20212 }),
  OFFSITE_SIM_NO_HJ212: Type.Boolean({ default: false }),
  OFFSITE_SIM_NO_MQTT: Type.Boolean({ default: false }),
  OFFSITE_MQTT_URL: Type.String({ default: 'mqtt://127.0.0.1:21883' }),
  /** Mosquitto's device listener, where enterprise logins connect (default: OFFSITE_MQTT_URL). */
  OFFSITE_MQTT_DEVICE_URL: Type.Optional(Type.String()),
  ...MqttTlsEnv,
  OFFSITE_MQTT_USERNAME: Type.Optional(Type.String()),
  OFFSITE_MQTT_PASSWORD: Type.Optional(Type.String({ secret: true })),
  /** JSON file {"username": "password"} of per-enterprise gateway accounts, if the mqtt-ingestor made them. */
  OFFSITE_SIM_MQTT_CREDENTIALS: Type.Optional(Type.String()),
  /** Write a progress line (JSON) to stdout every second, for scripts/demo.sh. */
  OFFSITE_SIM_PROGRESS: Type.Boolean({ default: false }),
  OFFSITE_SHUTDOWN_DEADLINE_MS: Type.Integer({ minimum: 100, default: 15_000 }),
});

/** The service's configuration: bootService loads it at start, `offsite config check simulator` without starting. */
export const serviceConfig: ServiceConfig<typeof SimulatorEnv> = {
  name: 'simulator',
  schema: SimulatorEnv,
};
