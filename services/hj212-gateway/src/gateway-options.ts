// The gateway's settings (each from OFFSITE_HJ212_* in config.ts) and their defaults.
import type { CipherTextEncoding, TolerancePolicy } from '@offsite/hj212';
import type { Publisher } from '@offsite/kafka';
import type { Logger } from '@offsite/runtime';
import type { CommandStore } from './command-store.js';
import type { DeviceDirectory } from './device-directory.js';
import type { AuthThrottleOptions, BudgetLimits } from './guard.js';
import type { GatewayMetrics } from './metrics.js';
import type { Topics } from './packet-handler.js';

/** The gateway's defence settings (each from OFFSITE_HJ212_* in config.ts). */
export interface GuardOptions {
  /** Until a connection's first frame with a valid MN/PW. */
  readonly unauthenticated: BudgetLimits;
  /** After it; `framesInFlight` here is `maxFramesInFlight`. */
  readonly authenticated: Omit<BudgetLimits, 'framesInFlight'>;
  /** From a partial frame's first byte to its CR LF. */
  readonly frameDeadlineMs: number;
  /** From accepting a connection to its first frame with a valid MN/PW; then it is closed. */
  readonly authDeadlineMs: number;
  readonly maxConnectionsPerSource: number;
  readonly auth: AuthThrottleOptions;
  /** Warnings a sender can provoke, per second over all connections. */
  readonly logLinesPerSecond: number;
  /**
   * Addresses of the load balancers whose connections start with a PROXY protocol header (v1 or v2)
   * naming the logger: its address then counts for the limits and the logs. Nobody else's header is read.
   */
  readonly trustedProxies?: readonly string[];
  /** From a trusted proxy's connect to its complete header; then it is closed. Default 5,000. */
  readonly proxyHeaderDeadlineMs?: number;
}

export const DEFAULT_GUARD: GuardOptions = {
  unauthenticated: { garbageBytes: 4096, badFrames: 8, framesInFlight: 4 },
  authenticated: { garbageBytes: 65_536, badFrames: 64 },
  frameDeadlineMs: 30_000,
  authDeadlineMs: 30_000,
  maxConnectionsPerSource: 64,
  auth: { windowMs: 600_000, failuresPerSource: 20, failuresPerMn: 10 },
  logLinesPerSecond: 20,
};

export interface GatewayOptions {
  readonly host: string;
  readonly port: number;
  readonly policy: TolerancePolicy;
  readonly maxSegmentBytes: number;
  readonly idleTimeoutMs: number;
  readonly maxConnections: number;
  /**
   * Pending-connection queue of the listening socket (the kernel caps it at net.core.somaxconn).
   * Node's default 511 drops SYNs when thousands of loggers reconnect at once after a restart, and
   * each dropped SYN costs that logger a 1 s retransmission. Default 4096.
   */
  readonly listenBacklog?: number;
  readonly splitTimeoutMs: number;
  readonly maxFramesInFlight: number;
  readonly cipherEncoding: CipherTextEncoding;
  readonly topics: Topics;
  readonly directory: DeviceDirectory;
  readonly publisher: Publisher;
  readonly metrics: GatewayMetrics;
  readonly logger: Logger;
  readonly now?: () => Date;
  /** Default `DEFAULT_GUARD`. */
  readonly guard?: GuardOptions;
  /** Default `DEFAULT_COMMANDS`. */
  readonly commands?: CommandOptions;
  /** Where the centre's commands are recorded and queued (Postgres). */
  readonly commandStore: CommandStore;
}

/** The centre's commands (each from OFFSITE_HJ212_* in config.ts). */
export interface CommandOptions {
  /** From sending a command to the logger's 9011, and between the packets that answer it, up to its 9012. */
  readonly timeoutMs: number;
  /** Attempts per request (timeouts, retryable failures, lost connections), then final. */
  readonly maxAttempts: number;
  /** Wait before the second attempt, doubled for each further one up to `maxBackoffMs`. */
  readonly backoffMs: number;
  readonly maxBackoffMs: number;
  /** Commands sent per second over all connections of this instance, and the burst. */
  readonly perSecond: number;
  readonly burst: number;
  /** How often queued requests are claimed and leases renewed; the lease. */
  readonly pollMs: number;
  readonly leaseMs: number;
  /** Least time between two clock calibrations (1012) of one logger. */
  readonly calibrationIntervalMs: number;
  /** A logger whose clock (the QN of a real-time upload or heartbeat) is further than this from the receive time is calibrated; 0 = never on drift. */
  readonly clockDriftMaxS: number;
}

export const DEFAULT_COMMANDS: CommandOptions = {
  timeoutMs: 30_000,
  maxAttempts: 3,
  backoffMs: 30_000,
  maxBackoffMs: 600_000,
  perSecond: 50,
  burst: 100,
  pollMs: 1_000,
  leaseMs: 300_000,
  calibrationIntervalMs: 600_000,
  clockDriftMaxS: 60,
};
