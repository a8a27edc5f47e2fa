// SMS delivery receipts (parsed by notify): each stored once, and published as a delivered or failed
// notification.v1 event.
import type { DeliveryReceipt } from '@offsite/notify';
import { idSafe } from './jobs.js';
import type { NotificationEvents } from './notification-events.js';
import * as repo from './repo.js';

/** Receipts of one callback: stored now, repeated by the provider (already stored), or for no notification of ours. */
export interface ReceiptCounts {
  new: number;
  repeat: number;
  unknown: number;
}

export function createReceipts(deps: { db: repo.Db; events: NotificationEvents }) {
  return {
    async recordReceipts(receipts: DeliveryReceipt[]): Promise<ReceiptCounts> {
      const counts: ReceiptCounts = { new: 0, repeat: 0, unknown: 0 };
      for (const r of receipts) {
        const stored = await repo.insertReceipt(deps.db, r);
        counts[stored.outcome]++;
        if (stored.outcome !== 'new') continue;
        const n = stored.notification;
        await deps.events.emit({
          id: n.id,
          ...(n.deviation_ids[0] ? { deviationId: n.deviation_ids[0] } : {}),
          recipient: { kind: n.recipient_kind, id: idSafe(n.recipient_id), address: n.address_masked },
          channel: n.channel,
          provider: r.provider,
          round: n.round,
          status: r.delivered ? 'delivered' : 'failed',
          providerMessageId: r.providerMessageId,
          ...(r.delivered
            ? {}
            : {
                error: {
                  code: `receipt-${(r.errorCode ?? 'undelivered').toLowerCase()}`,
                  message: r.errorMessage ?? r.errorCode ?? 'not delivered',
                  retryable: false,
                },
              }),
        });
      }
      return counts;
    },
  };
}
