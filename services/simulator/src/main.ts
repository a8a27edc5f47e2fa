/** Composition root of the simulator: config → logger → fleet → links → driver → lifecycle → ops. */
import { readFile } from 'node:fs/promises';
import { bootService, defineMetrics, readCaFile } from '@offsite/runtime';
import { serviceConfig } from './config.js';
import { createDriver, type Progress } from './driver.js';
import { historyOutputs } from './history.js';
import { createMqttPublisher, type ClosableMeterPublisher } from './mqtt-publisher.js';
import { defaultStart, parseRegistryText, parseScenarioKinds, planRun, withoutEnterprises } from './plan.js';
import { createSimulation } from './simulation.js';

const { env, logger, registry: registryMetrics, lifecycle, run } = bootService({ ...serviceConfig, process });

const start = env.OFFSITE_SIM_START ? Date.parse(env.OFFSITE_SIM_START) : defaultStart(Date.now());
if (Number.isNaN(start)) {
  process.stderr.write(`OFFSITE_SIM_START: not an ISO 8601 instant (got "${env.OFFSITE_SIM_START}")\n`);
  process.exit(78);
}
const registry = parseRegistryText(
  await readFile(env.OFFSITE_SIM_REGISTRY, 'utf8'),
  env.OFFSITE_SIM_REGISTRY,
);
const planned = planRun(
  registry,
  env.OFFSITE_SIM_ENTERPRISES,
  start,
  parseScenarioKinds(env.OFFSITE_SIM_SCENARIOS),
);
const silent = env.OFFSITE_SIM_SILENT.split(',')
  .map((s) => s.trim())
  .filter((s) => s !== '');
let plan = planned;
try {
  plan = withoutEnterprises(planned, silent);
} catch (e) {
  process.stderr.write(`OFFSITE_SIM_SILENT: ${(e as Error).message}\n`);
  process.exit(78);
}
if (silent.length > 0)
  logger.info({ enterprises: silent }, 'enterprises left disconnected for the whole run');
for (const s of plan.skipped) logger.warn({ scenario: s.kind, reason: s.reason }, 'scenario not placed');
for (const s of plan.scenarios)
  logger.info(
    {
      scenario: s.kind,
      enterprise: s.enterpriseId,
      target: s.target,
      factor: s.factor,
      from: new Date(s.from),
      to: new Date(s.to),
    },
    s.description.en,
  );

const credentials: Record<string, string> = env.OFFSITE_SIM_MQTT_CREDENTIALS
  ? (JSON.parse(await readFile(env.OFFSITE_SIM_MQTT_CREDENTIALS, 'utf8')) as Record<string, string>)
  : {};
const meters: ClosableMeterPublisher | null = env.OFFSITE_SIM_NO_MQTT
  ? null
  : createMqttPublisher({
      url: env.OFFSITE_MQTT_URL,
      deviceUrl: env.OFFSITE_MQTT_DEVICE_URL ?? env.OFFSITE_MQTT_URL,
      ca: readCaFile(env.OFFSITE_MQTT_CA_FILE),
      username: env.OFFSITE_MQTT_USERNAME ?? null,
      password: env.OFFSITE_MQTT_PASSWORD ?? null,
      credentials,
      clientIdPrefix: `offsite-sim-${process.pid}`,
    });

const metrics = defineMetrics(registryMetrics, {
  eventTime: { type: 'gauge', name: 'offsite_sim_event_time_seconds', help: 'Simulated event time reached' },
  generated: { type: 'gauge', name: 'offsite_sim_hj212_packets_generated', help: 'HJ 212 uploads generated' },
  acked: {
    type: 'gauge',
    name: 'offsite_sim_hj212_packets_acked',
    help: 'HJ 212 uploads acknowledged by 9014',
  },
  resends: { type: 'gauge', name: 'offsite_sim_hj212_resends', help: 'HJ 212 resends after an ack timeout' },
  cached: { type: 'gauge', name: 'offsite_sim_hj212_cached', help: 'Uploads waiting in logger caches' },
  meterReadings: {
    type: 'gauge',
    name: 'offsite_sim_meter_readings_published',
    help: 'Meter readings PUBACKed',
  },
});

const hours = env.OFFSITE_SIM_HOURS;
const driver = createDriver({
  simulation: createSimulation({
    fleet: plan.fleet,
    scenarios: plan.scenarios,
    seed: env.OFFSITE_SIM_SEED,
    start,
  }),
  scenarios: plan.scenarios,
  start,
  end: hours > 0 ? start + hours * 3_600_000 : null,
  speed: env.OFFSITE_SIM_SPEED === 0 ? Infinity : env.OFFSITE_SIM_SPEED,
  gateway: env.OFFSITE_SIM_NO_HJ212 ? null : { host: env.OFFSITE_HJ212_HOST, port: env.OFFSITE_HJ212_PORT },
  meters,
  ackTimeoutMs: env.OFFSITE_SIM_ACK_TIMEOUT_MS,
  maxBacklog: env.OFFSITE_SIM_MAX_BACKLOG,
  ...(env.OFFSITE_SIM_REPLAY_LIMIT === undefined ? {} : { replayLimit: env.OFFSITE_SIM_REPLAY_LIMIT }),
  tickMs: 100,
  logger: logger.child({ component: 'driver' }),
  ...(env.OFFSITE_SIM_HISTORY_DAYS > 0
    ? {
        history: () =>
          historyOutputs(plan.fleet, plan.scenarios, env.OFFSITE_SIM_SEED, start, {
            days: env.OFFSITE_SIM_HISTORY_DAYS,
            gapDays: 2,
            meterIntervalS: 900,
          }),
      }
    : {}),
  onProgress: (p: Progress) => {
    metrics.eventTime.set(p.eventTime / 1000);
    metrics.generated.set(p.packetsGenerated);
    metrics.acked.set(p.packetsAcked);
    metrics.resends.set(p.resends);
    metrics.cached.set(p.cached);
    metrics.meterReadings.set(p.meterReadings);
    if (env.OFFSITE_SIM_PROGRESS)
      process.stdout.write(
        `${JSON.stringify({ progress: { ...p, eventTime: new Date(p.eventTime).toISOString(), start: new Date(start).toISOString(), hours } })}\n`,
      );
  },
});

if (meters) lifecycle.register({ name: 'mqtt', stop: () => meters.close() });
const abort = new AbortController();
let running: Promise<Progress> | undefined;
lifecycle.register({
  name: 'driver',
  start: () => {
    running = driver.run(abort.signal);
    running.then(
      (p) => {
        logger.info({ progress: p }, 'simulation finished');
        void lifecycle.shutdown('simulation finished');
      },
      (error: unknown) => void lifecycle.shutdown('driver crashed', { error }),
    );
  },
  stop: async () => {
    abort.abort();
    await running;
  },
});

await run();
