// Telegraf as the ingest benchmark's baseline: the tool a bureau would pick instead of Offsite's MQTT path
// (inputs.mqtt_consumer → outputs.influxdb_v2). Built from its Go module with only the plugins used,
// pinned, and cached in .offsite/bin; run with a configuration written per bench run.
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export const TELEGRAF_MODULE = 'github.com/influxdata/telegraf';
export const TELEGRAF_VERSION = 'v1.37.2';
/** Build tags of a custom Telegraf: only these plugins are compiled in. */
export const TELEGRAF_TAGS = 'custom,inputs.mqtt_consumer,outputs.influxdb_v2,parsers.json';

const built = (bin: string): boolean => {
  if (!existsSync(bin)) return false;
  try {
    const info = execFileSync('go', ['version', '-m', bin], { encoding: 'utf8' });
    return (
      info.includes(`${TELEGRAF_MODULE}\t${TELEGRAF_VERSION}`) && info.includes(`-tags=${TELEGRAF_TAGS}`)
    );
  } catch {
    return false;
  }
};

/**
 * The pinned Telegraf binary under `<stateDir>/bin`, built on first use (`go install` from the Go module
 * proxy: a few minutes and ~1 GiB of module cache on a cold machine). Returns its path.
 */
export function ensureTelegraf(stateDir: string, log: (line: string) => void): string {
  const binDir = join(stateDir, 'bin');
  const bin = join(binDir, 'telegraf');
  if (built(bin)) return bin;
  mkdirSync(binDir, { recursive: true });
  log(`building Telegraf ${TELEGRAF_VERSION} (tags ${TELEGRAF_TAGS}) into ${binDir}`);
  execFileSync(
    'go',
    ['install', '-tags', TELEGRAF_TAGS, `${TELEGRAF_MODULE}/cmd/telegraf@${TELEGRAF_VERSION}`],
    {
      env: { ...process.env, GOBIN: binDir, CGO_ENABLED: '0', GOFLAGS: '-buildvcs=false' },
      stdio: ['ignore', 'ignore', 'inherit'],
    },
  );
  if (!built(bin)) throw new Error(`Telegraf build did not produce ${bin} at ${TELEGRAF_VERSION}`);
  return bin;
}

export interface TelegrafRun {
  mqttUrl: string;
  mqttUser: string;
  mqttPassword: string;
  /** MQTT topic filter and its levels as Telegraf topic-parsing tags (`_` skips a level). */
  topic: string;
  topicTags: string;
  influxUrl: string;
  /** InfluxDB 1.8's v2 write API: the token is `user:password`, the bucket `database/retention`. */
  influxToken: string;
  bucket: string;
  measurement: string;
  clientId: string;
}

const q = (s: string) => JSON.stringify(s);

/**
 * The anchor's settings: QoS 1 with a persistent session, a message acknowledged only after the output
 * wrote it (max_undelivered_messages bounds what is in flight), batches of 5,000, a buffer of 100,000.
 */
export function telegrafConfig(r: TelegrafRun): string {
  const mqtt = new URL(r.mqttUrl);
  return `[agent]
  interval = "1s"
  flush_interval = "250ms"
  flush_jitter = "0s"
  metric_batch_size = 5000
  metric_buffer_limit = 100000
  omit_hostname = true
  quiet = true

[[inputs.mqtt_consumer]]
  servers = [${q(`tcp://${mqtt.hostname}:${mqtt.port}`)}]
  topics = [${q(r.topic)}]
  qos = 1
  persistent_session = true
  client_id = ${q(r.clientId)}
  username = ${q(r.mqttUser)}
  password = ${q(r.mqttPassword)}
  max_undelivered_messages = 10000
  name_override = ${q(r.measurement)}
  data_format = "json"
  json_time_key = "ts"
  json_time_format = "2006-01-02T15:04:05Z07:00"
  json_string_fields = ["status"]
  [[inputs.mqtt_consumer.topic_parsing]]
    topic = ${q(r.topic)}
    tags = ${q(r.topicTags)}

[[outputs.influxdb_v2]]
  urls = [${q(r.influxUrl)}]
  token = ${q(r.influxToken)}
  organization = ""
  bucket = ${q(r.bucket)}
`;
}

/** Starts Telegraf with `config` written into `dir`; its stderr goes to the bench's. */
export function startTelegraf(bin: string, dir: string, config: string): ChildProcess {
  const file = join(dir, 'telegraf.conf');
  writeFileSync(file, config, { mode: 0o600 });
  return spawn(bin, ['--config', file], { stdio: ['ignore', 'ignore', 'inherit'] });
}
