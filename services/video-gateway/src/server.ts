// The webhook (`POST /v1/alarms`): authenticate → check → link the camera → store alarm and snapshot
// (one transaction) → produce video-alarm.v1 → stamp → 202. Every refusal is kept in telemetry.dlq.v1
// before it is answered; a failure to keep or to produce answers 503, so the platform sends it again.
import { createHash } from 'node:crypto';
import { dlqRecord, kafkaMessage, kafkaTopics, type VideoAlarmV1 } from '@offsite/contracts';
import type { DurableProducer } from '@offsite/kafka';
import type { Logger, Metrics } from '@offsite/runtime';
import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import type pg from 'pg';
import { alarmEvent, checkAlarm, unknownCamera, videoAlarmId } from './alarm.js';
import { authenticate, PLATFORM_HEADER, SIGNATURE_HEADER, TIMESTAMP_HEADER } from './auth.js';
import type { RefusalLimiter } from './refusal-limit.js';
import { reject, rejectionBody, type Rejection } from './rejection.js';
import { findAlarm, findCamera, markProduced, storeAlarm } from './store.js';

export const ALARMS_PATH = '/v1/alarms';
/** The outcome (metric label) of a request refused for its address's spent budget. */
export const RATE_LIMITED = 'video.rate-limited';

export const videoMetricDefinitions = {
  requests: {
    type: 'counter',
    name: 'offsite_video_requests_total',
    help: 'Webhook requests, by outcome (accepted, duplicate, or the refusal code)',
    labelNames: ['outcome'],
  },
  relayed: {
    type: 'counter',
    name: 'offsite_video_relayed_alarms_total',
    help: 'Stored alarms the relay produced after their request had not (Kafka failed or the process stopped)',
  },
  unpublished: {
    type: 'gauge',
    name: 'offsite_video_unpublished_alarms',
    help: 'Stored alarms Kafka has not yet acknowledged (counted after each relay round)',
  },
  unpublishedOldestAge: {
    type: 'gauge',
    name: 'offsite_video_unpublished_oldest_age_seconds',
    help: 'Age of the oldest stored alarm Kafka has not yet acknowledged, seconds (0 when none)',
  },
} as const;
export type VideoMetrics = Metrics<typeof videoMetricDefinitions>;

export interface VideoServerOptions {
  pool: pg.Pool;
  producer: Pick<DurableProducer, 'send'>;
  platforms: ReadonlyMap<string, Buffer>;
  alarmTopic: string;
  dlqTopic: string;
  replayWindowS: number;
  maxSnapshotBytes: number;
  logger: Logger;
  metrics?: VideoMetrics;
  now?: () => number;
  /** Budget of unauthenticated refusals per source address (refusal-limit.ts); none: unlimited. */
  refusalLimiter?: RefusalLimiter;
  /** Addresses (or CIDRs) of the reverse proxies whose X-Forwarded-For names the source address. */
  trustProxy?: readonly string[];
}

const header = (req: FastifyRequest, name: string): string | undefined => {
  const v = req.headers[name];
  return typeof v === 'string' ? v : undefined;
};
const sha256 = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');

const unavailable = {
  error: {
    code: 'video.unavailable',
    field: '(service)',
    message: 'the alarm could not be stored or kept now; send it again',
    messageZh: '暂时无法保存该告警，请稍后重发',
  },
};

export function createVideoServer(o: VideoServerOptions): FastifyInstance {
  const now = o.now ?? Date.now;
  // The base64 of the largest snapshot, and room for the rest of the alarm.
  const bodyLimit = Math.ceil(o.maxSnapshotBytes / 3) * 4 + 16 * 1024;
  const app = Fastify({
    logger: false,
    bodyLimit,
    ...(o.trustProxy && o.trustProxy.length > 0 ? { trustProxy: [...o.trustProxy] } : {}),
  });
  /** Addresses answered 429 since they last had budget: the warning is logged once per episode. */
  const limited = new Set<string>();
  // Every body as bytes: the signature covers them exactly, and a refusal keeps them.
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', { parseAs: 'buffer' }, (_req, body, done) => done(null, body));

  /** Keeps a refused request in the DLQ, then answers it; 503 when it could not be kept. */
  async function refuse(
    req: FastifyRequest,
    reply: FastifyReply,
    r: Rejection,
    body: Buffer,
    extra: { cameraId?: string | undefined; enterpriseId?: string | undefined } = {},
    unauthenticated = false,
  ) {
    if (unauthenticated && o.refusalLimiter) {
      const address = req.ip || 'unknown';
      const at = now();
      if (!o.refusalLimiter.take(address, at)) {
        o.metrics?.requests.inc({ outcome: RATE_LIMITED });
        if (limited.size >= 10_000) limited.clear();
        if (!limited.has(address)) {
          limited.add(address);
          o.logger.warn(
            { address, code: r.code },
            'too many unauthenticated video webhook requests from one address: answering 429, keeping none until its budget refills',
          );
        }
        const retryS = o.refusalLimiter.retryAfterS(address, at);
        return reply
          .code(429)
          .header('retry-after', String(retryS))
          .send(
            rejectionBody(
              reject(
                429,
                'rate-limited',
                '(source)',
                `too many unauthenticated or wrongly signed requests from ${address}; try again in ${retryS} s`,
                `来自 ${address} 的未认证或签名错误的请求过多，请 ${retryS} 秒后再试`,
              ),
            ),
          );
      }
      limited.delete(address);
    }
    o.metrics?.requests.inc({ outcome: r.code });
    const platform = header(req, PLATFORM_HEADER);
    const record = dlqRecord({
      source: 'video',
      origin: {
        transport: 'http',
        path: ALARMS_PATH,
        remoteAddress: req.ip.slice(0, 64) || 'unknown',
        ...(platform ? { platform: platform.slice(0, 64) } : {}),
      },
      identity: [
        platform ?? '',
        header(req, TIMESTAMP_HEADER) ?? '',
        header(req, SIGNATURE_HEADER) ?? '',
        body,
      ],
      code: r.code,
      message: `${r.field}: ${r.message}`,
      raw: body,
      receivedAt: new Date(now()),
      deviceId: extra.cameraId,
      enterpriseId: extra.enterpriseId,
    });
    try {
      await o.producer.send(o.dlqTopic, [kafkaMessage(kafkaTopics.telemetryDlq, record)]);
    } catch (err) {
      o.logger.error(
        { err: (err as Error).message, code: r.code },
        'refused video alarm not kept; answering 503',
      );
      return reply.code(503).send(unavailable);
    }
    o.logger.warn({ code: r.code, field: r.field, platform, dlqId: record.id }, 'video alarm refused');
    return reply.code(r.status).send(rejectionBody(r));
  }

  /** Produces the stored event and stamps it; the platform's 2xx follows only this. */
  async function produce(reply: FastifyReply, event: VideoAlarmV1, status: 200 | 202, duplicate: boolean) {
    try {
      await o.producer.send(o.alarmTopic, [kafkaMessage(kafkaTopics.videoAlarm, event)]);
      await markProduced(o.pool, event.id);
    } catch (err) {
      o.logger.error(
        { err: (err as Error).message, id: event.id },
        'video alarm stored, not produced; answering 503',
      );
      return reply.code(503).send(unavailable);
    }
    o.metrics?.requests.inc({ outcome: duplicate ? 'duplicate' : 'accepted' });
    return reply.code(status).send({ id: event.id, duplicate });
  }

  /** A redelivery: the same body is answered again (produced now if the first produce failed). */
  async function again(reply: FastifyReply, req: FastifyRequest, body: Buffer, bodySha: string, id: string) {
    const stored = await findAlarm(o.pool, id);
    if (!stored) return undefined;
    if (stored.bodySha256 !== bodySha)
      return refuse(
        req,
        reply,
        reject(
          409,
          'event-conflict',
          'eventId',
          `event ${stored.event.platformEventId} was already accepted with another body`,
          `事件 ${stored.event.platformEventId} 已以不同内容接收过`,
        ),
        body,
        { cameraId: stored.event.cameraId, enterpriseId: stored.event.enterpriseId },
      );
    if (stored.produced) {
      o.metrics?.requests.inc({ outcome: 'duplicate' });
      return reply.code(200).send({ id, duplicate: true });
    }
    return produce(reply, stored.event, 200, true);
  }

  app.post(ALARMS_PATH, async (req, reply) => {
    const body = Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0);
    const receivedAt = new Date(now());
    const auth = authenticate(o.platforms, {
      platform: header(req, PLATFORM_HEADER),
      timestamp: header(req, TIMESTAMP_HEADER),
      signature: header(req, SIGNATURE_HEADER),
      body,
      nowMs: receivedAt.getTime(),
      windowS: o.replayWindowS,
    });
    if (!auth.ok) return refuse(req, reply, auth.rejection, body, {}, true);
    const type = (header(req, 'content-type') ?? '').split(';')[0]!.trim().toLowerCase();
    if (type !== 'application/json')
      return refuse(
        req,
        reply,
        reject(
          415,
          'content-type',
          'content-type',
          `the body must be application/json, got "${type}"`,
          `请求体必须是 application/json，实际为 "${type}"`,
        ),
        body,
      );
    const checked = checkAlarm(body, { maxSnapshotBytes: o.maxSnapshotBytes });
    if (!checked.ok) return refuse(req, reply, checked.rejection, body);
    const { alarm } = checked.value;
    const id = videoAlarmId(auth.platform, alarm.eventId);
    const bodySha = sha256(body);
    const repeated = await again(reply, req, body, bodySha, id);
    if (repeated) return repeated;
    const camera = await findCamera(o.pool, auth.platform, alarm.cameraId);
    if (!camera)
      return refuse(req, reply, unknownCamera(auth.platform, alarm.cameraId), body, {
        cameraId: alarm.cameraId,
      });
    const event = alarmEvent(auth.platform, checked.value, camera, receivedAt);
    const inserted = await storeAlarm(o.pool, event, bodySha, checked.value.snapshot);
    if (!inserted) return (await again(reply, req, body, bodySha, id)) ?? reply.code(503).send(unavailable);
    return produce(reply, event, 202, false);
  });

  app.setErrorHandler(async (err: Error & { code?: string; statusCode?: number }, req, reply) => {
    if (err.code === 'FST_ERR_CTP_BODY_TOO_LARGE')
      return refuse(
        req,
        reply,
        reject(
          413,
          'body-too-large',
          '(body)',
          `the body is larger than ${bodyLimit} bytes`,
          `请求体超过 ${bodyLimit} 字节`,
        ),
        Buffer.alloc(0),
        {},
        true,
      );
    if (err.statusCode !== undefined && err.statusCode < 500)
      return reply.code(err.statusCode).send({
        error: { code: 'video.bad-request', field: '(request)', message: err.message, messageZh: '请求无效' },
      });
    o.logger.error({ err: err.message }, 'video webhook failed; answering 503');
    return reply.code(503).send(unavailable);
  });
  return app;
}
