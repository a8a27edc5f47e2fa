import { dlqRecord, type TelemetryDlqV1 } from '@offsite/contracts';
import { maskPasswords } from '@offsite/hj212';

/** A DLQ record for an MQTT message that cannot become telemetry. */
export function mqttDlqRecord(args: {
  topic: string;
  payload: Buffer;
  code: string;
  message: string;
  receivedAt: string;
  clientId?: string;
  enterpriseId?: string;
  deviceId?: string;
  irregularities?: readonly string[];
  /** From the HJ 212 topic family: PW/NewPW values are masked in what the record keeps (as are those
   * of any payload that starts like an HJ 212 frame, `##`). */
  hj212?: boolean;
}): TelemetryDlqV1 {
  const hj212 = args.hj212 === true || (args.payload[0] === 0x23 && args.payload[1] === 0x23);
  return dlqRecord({
    source: 'mqtt',
    origin: { transport: 'mqtt', topic: args.topic, ...(args.clientId ? { clientId: args.clientId } : {}) },
    identity: [args.topic, args.payload],
    code: args.code,
    message: args.message,
    raw: hj212 ? maskPasswords(args.payload) : args.payload,
    receivedAt: args.receivedAt,
    enterpriseId: args.enterpriseId,
    deviceId: args.deviceId,
    irregularities: args.irregularities,
  });
}
