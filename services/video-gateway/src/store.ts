// The gateway's own tables (migration 216): an accepted alarm and its snapshot commit together, before
// the event is produced; `produced_at` is stamped after Kafka acknowledged it. The camera lookup reads
// the registry's outlet_cameras (reference data every service reads).
import type { VideoAlarmV1 } from '@offsite/contracts';
import { transaction, type Queryable } from '@offsite/store';
import type pg from 'pg';
import type { CameraEntry, Snapshot } from './alarm.js';

/** The outlet (and its enterprise) a platform's camera watches, if the registry lists it. */
export async function findCamera(
  db: Queryable,
  platform: string,
  cameraId: string,
): Promise<CameraEntry | undefined> {
  const { rows } = await db.query<CameraEntry>(
    `select o.enterprise_id as "enterpriseId", c.outlet_id as "outletId"
       from outlet_cameras c join outlets o on o.id = c.outlet_id
      where c.platform = $1 and c.camera_id = $2`,
    [platform, cameraId],
  );
  return rows[0];
}

export interface StoredAlarm {
  bodySha256: string;
  produced: boolean;
  event: VideoAlarmV1;
}

export async function findAlarm(db: Queryable, id: string): Promise<StoredAlarm | undefined> {
  const { rows } = await db.query<StoredAlarm>(
    `select body_sha256 as "bodySha256", produced_at is not null as produced, event
       from video_alarms where id = $1`,
    [id],
  );
  return rows[0];
}

/**
 * Stores the alarm and its snapshot in one transaction. False when a row with this id already exists
 * (a concurrent redelivery won): the caller reads it again.
 */
export async function storeAlarm(
  pool: Pick<pg.Pool, 'connect'>,
  event: VideoAlarmV1,
  bodySha256: string,
  snapshot: Snapshot | undefined,
): Promise<boolean> {
  return transaction(pool, async (client) => {
    if (snapshot)
      await client.query(
        `insert into video_snapshots (sha256, content_type, size, bytes) values ($1, $2, $3, $4)
         on conflict (sha256) do nothing`,
        [snapshot.sha256, snapshot.contentType, snapshot.bytes.length, snapshot.bytes],
      );
    const r = await client.query(
      `insert into video_alarms (id, platform, platform_event_id, body_sha256, enterprise_id, outlet_id,
                                 camera_id, alarm_type, alarm_time, description, snapshot_sha256, event,
                                 received_at)
       values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)
       on conflict do nothing`,
      [
        event.id,
        event.platform,
        event.platformEventId,
        bodySha256,
        event.enterpriseId,
        event.outletId,
        event.cameraId,
        event.alarmType,
        event.alarmTime,
        event.description ?? null,
        event.snapshot?.sha256 ?? null,
        JSON.stringify(event),
        event.receivedAt,
      ],
    );
    return r.rowCount === 1;
  });
}

export async function markProduced(db: Queryable, id: string): Promise<void> {
  await db.query('update video_alarms set produced_at = coalesce(produced_at, now()) where id = $1', [id]);
}
