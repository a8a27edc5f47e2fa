import { kafkaMessage, kafkaTopics, mqttTopics } from '@offsite/contracts';
import type { Publisher } from '@offsite/kafka';
import type { Logger } from '@offsite/runtime';
import { withTimeout } from '@offsite/runtime';
import mqtt, { type IPublishPacket, type MqttClient } from 'mqtt';
import type { IngestorMetrics } from './metrics.js';
import { gatePubacks, type PubackGate } from './puback-gate.js';
import type { RegistryIndex } from '@offsite/store';
import { routeMqttMessage } from './router.js';

export interface MqttIngestorOptions {
  url: string;
  /** For an mqtts:// URL: the PEM of the CA that signed the broker's certificate (default: the system's CAs). */
  ca?: string | undefined;
  username?: string;
  password?: string;
  /** Client id of the ingestor's one persistent session. */
  clientId: string;
  sessionExpirySeconds: number;
  /** MQTT 5 receive maximum: QoS 1 messages in flight (PUBACK held until Kafka acked). */
  receiveMaximum: number;
  telemetryTopic: string;
  dlqTopic: string;
  registry: () => RegistryIndex;
  /** Resolves a publish once Kafka acknowledged it (acks=-1), retrying failed requests until closed. */
  producer: Publisher;
  /** How long stopping waits for Kafka to acknowledge what waits (default 3 s). */
  closeDeadlineMs?: number;
  logger: Logger;
  metrics: IngestorMetrics;
  now?: () => Date;
}

export interface MqttIngestor {
  start(): Promise<void>;
  stop(): Promise<void>;
  /** The session is connected. */
  isConnected(): boolean;
  readonly filters: readonly string[];
  /** Messages whose PUBACK is held. */
  held(): number;
}

/**
 * The subscription filters: meter energy/status and HJ 212 frames of every enterprise. Plain (not
 * shared) subscriptions of one persistent session: Mosquitto 2.0 (Debian 12's 2.0.11, and 2.0.21 of
 * bookworm-backports) does not save shared subscriptions in its persistence file, so after a broker
 * restart a share group receives nothing until its members subscribe again, and what meters publish
 * meanwhile reaches no subscriber. A plain subscription of a persistent session is saved and
 * restored, and queues what arrives while the session is offline.
 */
export const subscriptionFilters = (): string[] => [
  mqttTopics.meterEnergy.filter,
  mqttTopics.meterStatus.filter,
  mqttTopics.hj212.filter,
];

export function createMqttIngestor(opts: MqttIngestorOptions): MqttIngestor {
  const log = opts.logger.child({ component: 'mqtt' });
  const filters = subscriptionFilters();
  let client: MqttClient | undefined;
  let gate: PubackGate | undefined;
  let connected = false;
  const held = () => gate?.held() ?? 0;
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
  const ingest = async (packet: IPublishPacket): Promise<void> => {
    const started = performance.now();
    const payload = Buffer.isBuffer(packet.payload) ? packet.payload : Buffer.from(packet.payload);
    const receivedAt = receivedAtIso();
    const r = routeMqttMessage(packet.topic, payload, {
      index: opts.registry(),
      receivedAt,
      clientId: opts.clientId,
    });
    if (r.kind === 'telemetry') {
      await opts.producer.publish([
        { topic: opts.telemetryTopic, message: kafkaMessage(kafkaTopics.telemetry, r.event) },
      ]);
      opts.metrics.messages.inc({ outcome: 'telemetry' });
    } else if (r.kind === 'dlq') {
      await opts.producer.publish([
        { topic: opts.dlqTopic, message: kafkaMessage(kafkaTopics.telemetryDlq, r.record) },
      ]);
      opts.metrics.messages.inc({ outcome: 'dlq' });
      opts.metrics.dlq.inc({ reason: r.record.reason.code });
      log.warn({ topic: packet.topic, reason: r.record.reason }, 'message sent to the DLQ');
    } else {
      opts.metrics.messages.inc({ outcome: 'ignored' });
    }
    opts.metrics.ackSeconds.observe((performance.now() - started) / 1000);
  };

  const connect = () =>
    new Promise<void>((resolve, reject) => {
      const c = mqtt.connect(opts.url, {
        clientId: opts.clientId,
        protocolVersion: 5,
        clean: false,
        // receiveMaximum bounds the QoS 1 messages the broker sends before PUBACKs come back
        // (Mosquitto's max_inflight_messages, 20, applies only when a v5 client advertises none).
        properties: { sessionExpiryInterval: opts.sessionExpirySeconds, receiveMaximum: opts.receiveMaximum },
        reconnectPeriod: 1_000,
        connectTimeout: 10_000,
        // The broker keeps the session's subscriptions; each connect subscribes again below.
        resubscribe: false,
        ...(opts.username ? { username: opts.username } : {}),
        ...(opts.password ? { password: opts.password } : {}),
        ...(opts.ca !== undefined ? { ca: opts.ca } : {}),
      });
      client = c;
      // PUBACK only after the produce was acknowledged, with up to `receiveMaximum` messages in
      // flight (see puback-gate.ts). A failed ingest sends no PUBACK: the broker keeps the message in
      // the session and re-delivers it on the next connection.
      gate = gatePubacks(
        c,
        (packet) => ingest(packet),
        (err, packet) => log.warn({ err, topic: packet.topic }, 'message not acknowledged'),
        opts.receiveMaximum,
      );
      let first = true;
      c.on('connect', (connack) => {
        connected = true;
        opts.metrics.connected.set(1);
        log.info(
          { clientId: opts.clientId, sessionPresent: connack.sessionPresent },
          'MQTT session connected',
        );
        // A restored session (sessionPresent) already holds these subscriptions and what was queued
        // for them; subscribing again replaces each with itself and loses nothing. Without a session
        // (first start, or a broker that lost its state) this is what creates them.
        // Retain handling 2: no retained message is replayed on (re-)subscribing.
        c.subscribe(filters, { qos: 1, rh: 2 }, (err, granted) => {
          const refused = granted?.filter((g) => g.qos > 1) ?? [];
          if (err || refused.length > 0) {
            const e = err ?? new Error(`subscription refused: ${JSON.stringify(refused)}`);
            log.error({ err: e }, 'subscribe failed');
            if (first) {
              first = false;
              reject(e);
            }
            return;
          }
          if (first) {
            first = false;
            resolve();
          }
        });
      });
      c.on('close', () => {
        if (connected) log.warn({ clientId: opts.clientId }, 'MQTT connection closed');
        connected = false;
        opts.metrics.connected.set(0);
      });
      c.on('error', (err) => {
        log.warn({ err, clientId: opts.clientId }, 'MQTT error');
        if (first && /Not authorized|Bad user name or password/i.test(err.message)) {
          first = false;
          reject(err);
        }
      });
    });

  return {
    filters,
    held,
    isConnected: () => connected,
    async start() {
      heldSampler ??= setInterval(() => opts.metrics.pubacksHeld.set(held()), 1_000).unref();
      await connect();
    },
    async stop() {
      clearInterval(heldSampler);
      heldSampler = undefined;
      opts.metrics.pubacksHeld.set(held());
      // What waits is sent and acknowledged within the deadline; a message Kafka has not acknowledged
      // by then gets no PUBACK, and the broker keeps it for the session.
      await opts.producer.close(opts.closeDeadlineMs ?? 3_000).catch(() => undefined);
      const c = client;
      if (!c) return;
      await withTimeout(
        new Promise<void>((resolve) => c.end(false, {}, () => resolve())),
        5_000,
        'mqtt end',
      ).catch(() => c.end(true));
    },
  };
}
