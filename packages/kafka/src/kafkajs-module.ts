// KafkaJS, loaded on first use rather than when `@offsite/kafka` is imported: the fast paths replace
// modules that KafkaJS captures when it loads, so a composition root installs them (installKafkajsFastPaths)
// before its first client; types come from `import type`, which loads nothing.
import { createRequire } from 'node:module';
import type * as KafkaJSModule from 'kafkajs';

const require = createRequire(import.meta.url);

export type KafkaJS = typeof KafkaJSModule;

let loaded: KafkaJS | undefined;

export function kafkajs(): KafkaJS {
  if (!loaded) {
    loaded = require('kafkajs') as KafkaJS;
    clampRequestQueueTimer();
  }
  return loaded;
}

interface RequestQueueInternals {
  throttledUntil: number;
  throttleCheckTimeoutId: NodeJS.Timeout | null;
  pending: unknown[];
  checkPendingRequests(): void;
}

/**
 * KafkaJS 2.2.4's RequestQueue schedules its pending-request check at `throttledUntil - now` even when it was
 * never throttled (`throttledUntil` -1) and nothing is pending: a timer of minus the epoch, which Node runs after
 * 1 ms and, from Node 23, reports on stderr as a TimeoutNegativeWarning (an operator command's output then carries
 * it). The same method with the delay clamped at 1 ms: what Node does with the negative one, without the warning.
 */
function clampRequestQueueTimer(): void {
  const RequestQueue = require('kafkajs/src/network/requestQueue/index.js') as {
    prototype: { scheduleCheckPendingRequests(this: RequestQueueInternals): void };
  };
  RequestQueue.prototype.scheduleCheckPendingRequests = function (this: RequestQueueInternals) {
    let scheduleAt = this.throttledUntil - Date.now();
    if (this.throttleCheckTimeoutId) return;
    if (this.pending.length > 0 && scheduleAt <= 0) scheduleAt = CHECK_PENDING_REQUESTS_INTERVAL_MS;
    this.throttleCheckTimeoutId = setTimeout(
      () => {
        this.throttleCheckTimeoutId = null;
        this.checkPendingRequests();
      },
      Math.max(1, scheduleAt),
    );
  };
}

/** KafkaJS's CHECK_PENDING_REQUESTS_INTERVAL (requestQueue/index.js). */
const CHECK_PENDING_REQUESTS_INTERVAL_MS = 10;
