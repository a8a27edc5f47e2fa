// Valid example payloads shared by the unit tests (each test clones before mutating).
import type {
  ComplaintIntakeV1,
  DeviationV1,
  Hj212RawV1,
  MeterEnergyV1,
  MessageRequestV1,
  Hj212CommandV1,
  NotificationV1,
  ReviewDecisionV1,
  TelemetryDlqV1,
  TelemetryLateV1,
  TelemetryV1,
} from './index.js';

export const telemetry: TelemetryV1 = {
  schema: 'telemetry.v1',
  eventId: 'tel-3f1a9c',
  enterpriseId: 'ent-0001',
  siteId: 'outlet-DA001',
  deviceId: '010000A8900016F000169DC0',
  source: 'hj212',
  kind: 'emission',
  interval: 'minute',
  periodSeconds: 600,
  dataTime: '2024-03-01T02:10:00Z',
  receivedAt: '2024-03-01T02:20:03.412Z',
  rawRef: 'raw-7c1e',
  irregularities: ['crc-modbus-low-byte-first'],
  hj212: { st: '31', cn: '2051', qn: '20240301102003412', version: '2017' },
  measurements: [
    { factor: 'a21026', originalFactor: '02', stat: 'Avg', value: 35.2, unit: 'mg/m3', flag: 'N' },
    { factor: 'a21026', stat: 'ZsAvg', value: 41.7, unit: 'mg/m3', flag: 'N' },
    { factor: 'a19001', stat: 'Avg', value: 10.3, unit: '%', flag: 'N' },
    { factor: 'SB1', stat: 'RS', value: 1 },
  ],
};

export const energyTelemetry: TelemetryV1 = {
  schema: 'telemetry.v1',
  eventId: 'tel-88aa01',
  enterpriseId: 'ent-0001',
  siteId: 'm-treat-01',
  deviceId: 'm-treat-01',
  source: 'mqtt',
  kind: 'energy',
  interval: 'realtime',
  dataTime: '2024-03-01T02:10:00Z',
  receivedAt: '2024-03-01T02:10:00.250Z',
  irregularities: [],
  measurements: [
    { factor: 'energy_kwh', stat: 'Cou', value: 10234.5, unit: 'kWh' },
    { factor: 'power_kw', stat: 'Rtd', value: 42.1, unit: 'kW' },
    { factor: 'running', stat: 'Value', value: 1 },
  ],
};

export const dlq: TelemetryDlqV1 = {
  schema: 'telemetry.dlq.v1',
  id: 'dlq-01HQ',
  source: 'hj212',
  reason: { code: 'hj212.crc-mismatch', message: 'CRC 1C81 does not match computed 1C80' },
  raw: Buffer.from('##0101QN=...&&1C81\r\n').toString('base64'),
  rawText: '##0101QN=...&&1C81\r\n',
  receivedAt: '2024-03-01T02:20:03.412Z',
  origin: {
    transport: 'tcp',
    connectionId: 'c-17',
    remoteAddress: '10.1.2.3',
    remotePort: 50211,
    localPort: 9001,
  },
  irregularities: [],
};

export const raw: Hj212RawV1 = {
  schema: 'hj212.raw.v1',
  id: 'raw-7c1e',
  receivedAt: '2024-03-01T02:20:03.412Z',
  connection: { id: 'c-17', remoteAddress: '10.1.2.3', remotePort: 50211, localPort: 9001 },
  mn: '010000A8900016F000169DC0',
  cn: '2051',
  raw: Buffer.from('##0101QN=...&&1C80\r\n').toString('base64'),
  decoded: true,
  irregularities: [],
  direction: 'in',
};

export const deviation: DeviationV1 = {
  schema: 'deviation.v1',
  id: 'dev-5b2f',
  rule: 'exceedance',
  state: 'opened',
  revision: 1,
  severity: 'high',
  enterpriseId: 'ent-0001',
  siteId: 'outlet-DA001',
  factor: 'a21026',
  windowStart: '2024-03-01T02:00:00Z',
  windowEnd: '2024-03-01T03:00:00Z',
  openedAt: '2024-03-01T03:00:00Z',
  suspectedFalsification: false,
  inResumptionWindow: true,
  evidence: {
    summary: 'Hourly converted SO2 mean 58.4 mg/m3 above the permit limit 50 mg/m3 (1.17x)',
    values: [
      { time: '2024-03-01T02:00:00Z', factor: 'a21026', stat: 'ZsAvg', value: 58.4, limit: 50, flag: 'N' },
    ],
    params: { ratio: 1.168, o2Reference: 9 },
  },
  emittedAt: '2024-03-01T03:00:05.120Z',
};

export const notification: NotificationV1 = {
  schema: 'notification.v1',
  id: 'ntf-91aa',
  deviationId: 'dev-5b2f',
  caseId: 'case-12',
  recipient: { kind: 'enterprise-contact', id: 'contact-3', address: '138****5678' },
  channel: 'sms',
  provider: 'aliyun-sms',
  round: 1,
  attempt: 1,
  status: 'sent',
  providerMessageId: 'biz-0099',
  latencyMs: 412,
  at: '2024-03-01T03:00:07.000Z',
};

export const reviewDecision: ReviewDecisionV1 = {
  schema: 'review.decision.v1',
  id: 'dev-5b2f:7',
  deviationId: 'dev-5b2f',
  sequence: 7,
  enterpriseId: 'ent-0001',
  action: 'confirm',
  reviewState: 'confirmed',
  decision: 'penalty',
  suspectedFalsification: true,
  decidedAt: '2024-03-02T02:15:00.000Z',
};

export const messageRequest: MessageRequestV1 = {
  schema: 'message.request.v1',
  id: 'regulation-complaint-12-acknowledge-lead-1772330400000-insp-01',
  kind: 'complaint-reminder',
  channel: 'email',
  recipient: { kind: 'inspector', id: 'insp-01', name: '王伟', address: 'wang.wei@qinglan.example' },
  language: 'zh',
  subject: '【信访举报】#12 受理时限临近',
  text: '信访举报 #12 受理时限临近，请登录非现场监管平台及时处理。',
  sms: '信访举报#12受理时限临近，请及时处理。',
  requestedAt: '2026-03-01T01:00:00.000Z',
};

export const telemetryLate: TelemetryLateV1 = {
  schema: 'telemetry.late.v1',
  id: '010000A8900016F000169DC0:2026-03-01:5f0c2a8e-0b1d-4c53-9a55-2a0c1f6b7d10',
  enterpriseId: 'ent-0001',
  deviceId: '010000A8900016F000169DC0',
  day: '2026-03-01',
  readings: 12,
  firstDataTime: '2026-02-28T16:00:00Z',
  lastDataTime: '2026-02-28T17:50:00Z',
  observedAt: '2026-03-02T09:12:44.120Z',
};

export const hj212Command: Hj212CommandV1 = {
  schema: 'hj212.command.v1',
  id: 'console-cmd-7f3a9c',
  mn: '010000A8900016F000169DC0',
  cn: '2051',
  beginTime: '2026-03-01T00:00:00Z',
  endTime: '2026-03-01T02:00:00Z',
  requestedBy: 'u-3 supervisor.li',
  requestedAt: '2026-03-01T03:00:00.000Z',
};

export const complaintIntake: ComplaintIntakeV1 = {
  schema: 'complaint.intake.v1',
  id: 'wechat:gh_0a1b2c3d4e5f:23914372859115008',
  channel: 'wechat',
  account: 'gh_0a1b2c3d4e5f',
  source: 'oX2Lt6_kQz0bA1cD2eF3gH4iJ5kL',
  sourceMessageId: '23914372859115008',
  text: '青澜化工厂晚上偷排废气，气味刺鼻',
  receivedAt: '2026-03-01T13:05:00Z',
};

export const meterEnergy: MeterEnergyV1 = {
  ts: '2024-03-01T10:10:00+08:00',
  powerKw: 42.1,
  energyKwh: 10234.5,
  currentA: 63.8,
  status: 'running',
};

/** Deep copy for mutation in tests. */
export function clone<T>(value: T): T & Record<string, unknown> {
  return structuredClone(value) as T & Record<string, unknown>;
}
