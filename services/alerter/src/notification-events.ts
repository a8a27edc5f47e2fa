// notification.v1 events: what happened to each message (sent, failed, delivered), published after
// Postgres recorded it. Postgres is the record; a publish failure is logged and counted, never fails
// the send.
import type { NotificationV1 } from '@offsite/contracts';
import type { Logger } from '@offsite/notify';

export interface NotificationEventsDeps {
  publish?: (event: NotificationV1) => Promise<void> | void;
  now: () => Date;
  logger: Logger;
  counters?: { publishFailed?(): void };
}

export function createNotificationEvents(deps: NotificationEventsDeps) {
  const log = deps.logger.child({ component: 'alerter' });
  return {
    async emit(e: Omit<NotificationV1, 'schema' | 'at'>): Promise<void> {
      if (!deps.publish) return;
      try {
        await deps.publish({
          schema: 'notification.v1',
          at: deps
            .now()
            .toISOString()
            .replace(/\.\d+Z$/, 'Z'),
          ...e,
        });
      } catch (err) {
        deps.counters?.publishFailed?.();
        log.error({ err, notificationId: e.id, status: e.status }, 'notification event not published');
      }
    },
  };
}

export type NotificationEvents = ReturnType<typeof createNotificationEvents>;
