// What the partition processor holds per assigned partition, and the ports its parts share.
import type { DeviationV1, TelemetryDlqV1 } from '@offsite/contracts';
import type { AggregateOutput, DeviationOutput, Engine } from '@offsite/domain';

/** Where the processor hands its results; each call resolves once the hand-off is durable. */
export interface OutputSinks {
  deviations(events: DeviationV1[]): Promise<void>;
  aggregates(aggregates: AggregateOutput[]): Promise<void>;
  dlq(records: TelemetryDlqV1[]): Promise<void>;
  /** The analyzer's own deviation log (stability input), after the Kafka hand-off. */
  deviationLog?(entries: { output: DeviationOutput; event: DeviationV1 }[]): Promise<void>;
  /**
   * Largest receivedAt per enterprise, and the devices that reported (with their enterprise, outlet and
   * earliest receivedAt), since the last checkpoint; written just before it.
   */
  lastSeen?(
    byEnterprise: ReadonlyMap<string, number>,
    devices: ReadonlyMap<string, DeviceReport>,
  ): Promise<void>;
  /**
   * Per outlet, the earliest hour of the hourly data seen since the last checkpoint (the loggers' hourly readings
   * and the analyzer's hourly aggregates: the emission loads' inputs), after their hand-off; written just before it.
   */
  loadHours?(bySite: ReadonlyMap<string, number>): Promise<void>;
}

export interface DeviceReport {
  enterpriseId: string;
  siteId: string;
  receivedAt: number;
}

export interface ProcessorCounters {
  readings?(n: number): void;
  rejected?(code: string, n: number): void;
  dlq?(code: string): void;
  deviations?(state: string, n: number): void;
  aggregates?(n: number): void;
  checkpoints?(): void;
  /** Records between the checkpoint and the first one Kafka still had (deleted by retention): never analysed. */
  gone?(n: number): void;
  /** Wall seconds the partition loop spent per phase (decode, engine, handoff, checkpoint): where the time goes. */
  phase?(phase: 'decode' | 'engine' | 'handoff' | 'checkpoint', seconds: number): void;
}

export interface IncomingRecord {
  offset: string;
  value: Buffer | null;
}

export interface PartitionState {
  engine: Engine;
  nextOffset: string | null;
  maxEventTime: number | null;
  version: number | null;
  /** Offset of the last checkpoint (null: none yet) and when / how many records ago it was written. */
  checkpointedOffset: string | null;
  /** The engine moved (records or a tick) since the last checkpoint. */
  unsaved: boolean;
  checkpointedAt: number;
  sinceCheckpoint: number;
  /** The offset a rewind asked for, so a gap that a rewind cannot close (retention) is accepted once. */
  rewoundTo: string | null;
  lastSeen: Map<string, number>;
  /** Device id → its earliest report since the last checkpoint. */
  reported: Map<string, DeviceReport>;
  /** Outlet → the earliest hour of its hourly data since the last checkpoint (`OutputSinks.loadHours`). */
  loadHours: Map<string, number>;
}
