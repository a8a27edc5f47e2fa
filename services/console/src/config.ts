import { Type, type Static } from '@sinclair/typebox';

export const Env = Type.Object({
  OFFSITE_LOG_LEVEL: Type.Union([Type.Literal('debug'), Type.Literal('info'), Type.Literal('warn')], {
    default: 'info',
  }),
  OFFSITE_OPS_HOST: Type.String({ default: '127.0.0.1' }),
  OFFSITE_OPS_PORT: Type.Integer({ minimum: 0, maximum: 65535, default: 9107 }),
  OFFSITE_CONSOLE_HOST: Type.String({ default: '127.0.0.1' }),
  OFFSITE_CONSOLE_PORT: Type.Integer({ minimum: 0, maximum: 65535, default: 8080 }),
  OFFSITE_CONSOLE_SECURE_COOKIES: Type.Boolean({ default: false }),
  OFFSITE_CONSOLE_SESSION_IDLE_MIN: Type.Integer({ minimum: 1, maximum: 1440, default: 30 }),
  OFFSITE_CONSOLE_SESSION_MAX_HOURS: Type.Integer({ minimum: 1, maximum: 72, default: 12 }),
  OFFSITE_CONSOLE_LOGIN_MAX_PER_MIN: Type.Integer({ minimum: 1, maximum: 1000, default: 5 }),
  OFFSITE_PG_URL: Type.String({ secret: true }),
  OFFSITE_INFLUX_URL: Type.String({ format: 'uri' }),
  OFFSITE_INFLUX_TOKEN: Type.String({ secret: true }),
  OFFSITE_INFLUX_ORG: Type.String({ default: '' }),
  OFFSITE_INFLUX_BUCKET: Type.String(),
  OFFSITE_INFLUX_EMISSION_MEASUREMENT: Type.String({ default: 'emission' }),
  OFFSITE_INFLUX_ENERGY_MEASUREMENT: Type.String({ default: 'energy' }),
  OFFSITE_INFLUX_AGGREGATE_MEASUREMENT: Type.String({ default: 'aggregate' }),
  OFFSITE_CONSOLE_EVIDENCE_MARGIN_HOURS: Type.Integer({ minimum: 0, maximum: 168, default: 6 }),
  OFFSITE_SHUTDOWN_DEADLINE_MS: Type.Integer({ minimum: 100, default: 25_000 }),
  // Demo users' passwords (`npm run seed`); unset: no seeding.
  OFFSITE_CONSOLE_DEMO_PASSWORD: Type.Optional(Type.String({ minLength: 8, secret: true })),
});
export type Env = Static<typeof Env>;
