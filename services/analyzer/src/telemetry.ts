// telemetry.v1 record → domain Reading, and the rejection reasons that send a record to the DLQ.
import { validateTelemetryV1, type TelemetryV1 } from '@offsite/contracts';
import { readingFromTelemetry, type Reading } from '@offsite/domain';

export type DecodeOutcome =
  | { ok: true; telemetry: TelemetryV1; reading: Reading }
  | { ok: false; code: 'not-json' | 'schema-invalid' | 'empty-record'; message: string };

/** Parses and validates one Kafka record value. */
export function decodeTelemetryRecord(value: Buffer | null): DecodeOutcome {
  if (value === null || value.length === 0)
    return { ok: false, code: 'empty-record', message: 'record has no value' };
  let data: unknown;
  try {
    data = JSON.parse(value.toString('utf8'));
  } catch (err) {
    return { ok: false, code: 'not-json', message: `not JSON: ${(err as Error).message}` };
  }
  const v = validateTelemetryV1(data);
  if (!v.ok) return { ok: false, code: 'schema-invalid', message: v.errors.join('; ').slice(0, 2000) };
  return { ok: true, telemetry: v.value, reading: readingFromTelemetry(v.value) };
}
