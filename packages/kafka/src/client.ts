import type { Kafka, KafkaConfig, LogEntry } from 'kafkajs';
import { kafkajs } from './kafkajs-module.js';
import type { Logger } from './logger.js';

export interface KafkaClientOptions {
  brokers: string[];
  clientId: string;
  logger: Logger;
  /** Initial connection timeout per broker, ms. */
  connectionTimeoutMs?: number;
  /** Retries of KafkaJS's own retrier before an operation fails. */
  retries?: number;
  /** TLS to the brokers, server certificate verified; `ca` (PEM) replaces the system's CAs. */
  tls?: { ca?: string };
  /** SASL authentication (over TLS in production). */
  sasl?: { mechanism: 'scram-sha-512'; username: string; password: string };
}

/** Creates a KafkaJS client whose logs go to the injected logger instead of the console. */
export function createKafkaClient(opts: KafkaClientOptions): Kafka {
  const log = opts.logger.child({ component: 'kafkajs' });
  const { Kafka, logLevel } = kafkajs();
  const config: KafkaConfig = {
    clientId: opts.clientId,
    brokers: opts.brokers,
    connectionTimeout: opts.connectionTimeoutMs ?? 3_000,
    ...(opts.tls
      ? { ssl: { rejectUnauthorized: true, ...(opts.tls.ca !== undefined ? { ca: [opts.tls.ca] } : {}) } }
      : {}),
    ...(opts.sasl ? { sasl: { ...opts.sasl } } : {}),
    retry: { retries: opts.retries ?? 8, initialRetryTime: 200, maxRetryTime: 5_000 },
    logLevel: logLevel.WARN,
    logCreator:
      () =>
      ({ level, log: entry }: LogEntry) => {
        const { message, ...rest } = entry;
        if (level <= logLevel.ERROR) log.error(rest, message);
        else if (level === logLevel.WARN) log.warn(rest, message);
        else if (level === logLevel.INFO) log.info(rest, message);
        else log.debug(rest, message);
      },
  };
  return new Kafka(config);
}
