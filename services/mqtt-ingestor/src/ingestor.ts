import { kafkaTopics, mqttTopics } from '@offsite/contracts';
import type { Logger } from '@offsite/runtime';
import { withTimeout } from '@offsite/runtime';
import mqtt, { type IPublishPacket, type MqttClient } from 'mqtt';
import type { IngestorMetrics } from './metrics.js';
import type { ProduceBatcher } from './produce-batcher.js';
import { gatePubacks, type PubackGate } from './puback-gate.js';
import type { RegistryIndex } from './registry-index.js';
import { routeMqttMessage } from './router.js';

export interface MqttIngestorOptions {
  url: string;
  username?: string;
  password?: string;
  /** Base client id; session i uses `<clientId>-<i>` so each keeps its persistent session. */
  clientId: string;
  /** Parallel sessions in the shared subscription. */
  sessions: number;
  shareGroup: string;
  sessionExpirySeconds: number;
  /** MQTT 5 receive maximum per session: QoS 1 messages in flight (PUBACK held until Kafka acked). */
  receiveMaximum: number;
  telemetryTopic: string;
  dlqTopic: string;
  registry: () => RegistryIndex;
  producer: ProduceBatcher;
  logger: Logger;
  metrics: IngestorMetrics;
  now?: () => Date;
}

export interface MqttIngestor {
  start(): Promise<void>;
  stop(): Promise<void>;
  /** Every session connected. */
  isConnected(): boolean;
  readonly filters: readonly string[];
  /** Messages whose PUBACK is held, over all sessions. */
  held(): number;
}

/** The subscription filters: meter energy/status and HJ 212 frames of every enterprise, shared. */
export const subscriptionFilters = (group: string): string[] =>
  [mqttTopics.meterEnergy.filter, mqttTopics.meterStatus.filter, mqttTopics.hj212.filter].map(
    (f) => `$share/${group}/${f}`,
  );

export function createMqttIngestor(opts: MqttIngestorOptions): MqttIngestor {
  const log = opts.logger.child({ component: 'mqtt' });
  const filters = subscriptionFilters(opts.shareGroup);
  const clients: MqttClient[] = [];
  const connected = new Set<number>();
  const gates: PubackGate[] = [];
  const heldTotal = () => gates.reduce((n, g) => n + g.held(), 0);
  // The held gauge is sampled (a scrape reads it), not set per message.
  let heldSampler: NodeJS.Timeout | undefined;
  // Messages of the same millisecond share one receive time string (no Date per message).
  let lastMs = Number.NaN;
  let lastIso = '';
  const receivedAtIso = (): string => {
    if (opts.now) return opts.now().toISOString();
    const ms = Date.now();
    if (ms !== lastMs) {
      lastMs = ms;
      lastIso = new Date(ms).toISOString();
    }
    return lastIso;
  };

  /** Everything one message needs before its PUBACK may go: routed, then durably produced. */
  const ingest = async (packet: IPublishPacket, clientId: string): Promise<void> => {
    const started = performance.now();
    const payload = Buffer.isBuffer(packet.payload) ? packet.payload : Buffer.from(packet.payload);
    const receivedAt = receivedAtIso();
    const r = routeMqttMessage(packet.topic, payload, { index: opts.registry(), receivedAt, clientId });
    if (r.kind === 'telemetry') {
      await opts.producer.produce({
        topic: opts.telemetryTopic,
        key: kafkaTopics.telemetry.key(r.event),
        value: JSON.stringify(r.event),
      });
      opts.metrics.messages.inc({ outcome: 'telemetry' });
    } else if (r.kind === 'dlq') {
      await opts.producer.produce({
        topic: opts.dlqTopic,
        key: kafkaTopics.telemetryDlq.key(r.record),
        value: JSON.stringify(r.record),
      });
      opts.metrics.messages.inc({ outcome: 'dlq' });
      opts.metrics.dlq.inc({ reason: r.record.reason.code });
      log.warn({ topic: packet.topic, reason: r.record.reason }, 'message sent to the DLQ');
    } else {
      opts.metrics.messages.inc({ outcome: 'ignored' });
    }
    opts.metrics.ackSeconds.observe((performance.now() - started) / 1000);
  };

  const connectOne = (i: number) =>
    new Promise<void>((resolve, reject) => {
      const clientId = `${opts.clientId}-${i}`;
      const client = mqtt.connect(opts.url, {
        clientId,
        protocolVersion: 5,
        clean: false,
        // receiveMaximum bounds the QoS 1 messages the broker sends this session before PUBACKs come
        // back (Mosquitto's max_inflight_messages, 20, applies only when a v5 client advertises none).
        properties: { sessionExpiryInterval: opts.sessionExpirySeconds, receiveMaximum: opts.receiveMaximum },
        reconnectPeriod: 1_000,
        connectTimeout: 10_000,
        ...(opts.username ? { username: opts.username } : {}),
        ...(opts.password ? { password: opts.password } : {}),
      });
      // PUBACK only after the produce was acknowledged, with up to `receiveMaximum` messages in
      // flight per session (see puback-gate.ts). A failed ingest sends no PUBACK: the broker keeps the
      // message in the session and re-delivers it on the next connection.
      gates.push(
        gatePubacks(
          client,
          (packet) => ingest(packet, clientId),
          (err, packet) => log.warn({ err, topic: packet.topic }, 'message not acknowledged'),
          opts.receiveMaximum,
        ),
      );
      let first = true;
      client.on('connect', (connack) => {
        connected.add(i);
        opts.metrics.connected.set(connected.size);
        log.info({ clientId, sessionPresent: connack.sessionPresent }, 'MQTT session connected');
        const subscribe = () =>
          client.subscribe(filters, { qos: 1 }, (err, granted) => {
            const refused = granted?.filter((g) => g.qos > 1) ?? [];
            if (err || refused.length > 0) {
              const e = err ?? new Error(`subscription refused: ${JSON.stringify(refused)}`);
              log.error({ err: e }, 'subscribe failed');
              if (first) reject(e);
              return;
            }
            if (first) {
              first = false;
              resolve();
            }
          });
        // A session the broker restored (sessionPresent) still lists its shared subscription, but
        // Mosquitto 2.0.11 restored from persistence after a restart delivers nothing more to it;
        // SUBSCRIBE alone does not revive it, UNSUBSCRIBE then SUBSCRIBE does. Messages already queued
        // for the session stay queued; a message published in the few milliseconds between the two
        // goes to the group's other sessions, or nowhere if this is the only one (the price of not
        // losing everything after a broker restart).
        if (connack.sessionPresent) client.unsubscribe(filters, () => subscribe());
        else subscribe();
      });
      client.on('close', () => {
        connected.delete(i);
        opts.metrics.connected.set(connected.size);
      });
      client.on('error', (err) => {
        log.warn({ err, clientId }, 'MQTT error');
        if (first && /Not authorized|Bad user name or password/i.test(err.message)) {
          first = false;
          reject(err);
        }
      });
      clients.push(client);
    });

  return {
    filters,
    held: heldTotal,
    isConnected: () => clients.length > 0 && connected.size === clients.length,
    async start() {
      heldSampler ??= setInterval(() => opts.metrics.pubacksHeld.set(heldTotal()), 1_000).unref();
      await Promise.all(Array.from({ length: opts.sessions }, (_, i) => connectOne(i)));
    },
    async stop() {
      clearInterval(heldSampler);
      heldSampler = undefined;
      opts.metrics.pubacksHeld.set(heldTotal());
      // Messages still waiting for Kafka are not acknowledged: the broker keeps them for the session.
      opts.producer.close();
      await Promise.all(
        clients.map((c) =>
          withTimeout(
            new Promise<void>((resolve) => c.end(false, {}, () => resolve())),
            5_000,
            'mqtt end',
          ).catch(() => c.end(true)),
        ),
      );
    },
  };
}
