import type { TelemetryV1 } from '@offsite/contracts';

/** Why an input yields no reading although it was valid (archive it, acknowledge it, move on). */
export type NotTelemetryReason = 'not-data-upload' | 'no-measurements';

/** Why an input cannot become a reading (send it to the DLQ with this reason). */
export type InvalidReason =
  | 'missing-datatime'
  | 'invalid-id'
  | 'invalid-header'
  | 'invalid-factor'
  | 'invalid-time'
  | 'too-many-measurements'
  | 'schema-invalid';

export type NormalizeResult =
  | { readonly ok: true; readonly event: TelemetryV1 }
  | {
      readonly ok: false;
      readonly kind: 'not-telemetry';
      readonly reason: NotTelemetryReason;
      readonly message: string;
    }
  | {
      readonly ok: false;
      readonly kind: 'invalid';
      readonly reason: InvalidReason;
      readonly message: string;
      /** One line per problem, when the input failed a schema. */
      readonly details?: readonly string[];
    };
