// A video platform's alarm as a rule input (视频监控), pure. The video-gateway accepted the alarm (authenticated, its
// camera linked to an outlet by the registry, its snapshot stored) and produced it as `video-alarm.v1`; the analyzer
// turns the alarm kinds below into a deviation, one per alarm.
//
// `discharge-outside-hours`: the platform saw the outlet discharging outside its permitted hours. The registry holds
// no discharge schedule per outlet, so the alarm itself is the evidence (the platform judged the hours); the
// deviation names the camera, platform, alarm, time and snapshot checksum so a supervisor can look at the image.
// Discharging while evading supervision is treated like suspected falsification (环境保护法 §63 lists both as 逃避监管):
// supervisors first, the enterprise is not tipped off.
import type { VideoAlarmV1 } from '@offsite/contracts';
import { toShanghaiIso } from './calendar.js';
import { deviationId } from './deviation-records.js';
import type { DeviationOutput, RuleName, Severity } from './model.js';

/** The alarm kinds that are a rule input, and the rule each opens. */
export const VIDEO_ALARM_RULES: Readonly<Partial<Record<VideoAlarmV1['alarmType'], RuleName>>> = {
  'discharge-outside-hours': 'discharge-outside-hours',
};

/** The deviation id of one alarm: the same alarm (its id is the gateway's, stable on redelivery) gives the same id. */
export function videoAlarmDeviationId(
  alarm: Pick<VideoAlarmV1, 'id' | 'enterpriseId' | 'outletId' | 'alarmTime'>,
) {
  return deviationId(
    alarm.enterpriseId,
    alarm.outletId,
    'discharge-outside-hours',
    alarm.id,
    Date.parse(alarm.alarmTime),
  );
}

export interface VideoAlarmRules {
  severity: Severity;
}

export const DEFAULT_VIDEO_ALARM_RULES: VideoAlarmRules = { severity: 'major' };

/**
 * The deviation an alarm opens: null when its kind is not a rule input, or when the log already holds the deviation
 * (`previous`: a redelivered alarm opens nothing again).
 */
export function videoAlarmDeviation(
  alarm: VideoAlarmV1,
  previous: { revision: number } | null,
  rules: VideoAlarmRules = DEFAULT_VIDEO_ALARM_RULES,
): DeviationOutput | null {
  const rule = VIDEO_ALARM_RULES[alarm.alarmType];
  if (!rule || previous !== null) return null;
  const at = Date.parse(alarm.alarmTime);
  return {
    type: 'deviation',
    id: videoAlarmDeviationId(alarm),
    rule,
    state: 'opened',
    revision: 1,
    severity: rules.severity,
    enterpriseId: alarm.enterpriseId,
    siteId: alarm.outletId,
    subject: alarm.id,
    windowStart: at,
    windowEnd: at,
    suspectedFalsification: true,
    inResumptionWindow: false,
    evidence: {
      confirmedAt: at,
      alarmId: alarm.id,
      alarmType: alarm.alarmType,
      platform: alarm.platform,
      platformEventId: alarm.platformEventId,
      cameraId: alarm.cameraId,
      alarmTime: alarm.alarmTime,
      alarmTimeText: toShanghaiIso(at).slice(0, 19).replace('T', ' '),
      receivedAt: alarm.receivedAt,
      ...(alarm.description !== undefined ? { description: alarm.description } : {}),
      // The schedule check: the registry has no permitted discharge hours per outlet, so the platform's judgement
      // stands as the evidence.
      hoursCheck: 'no-registry-schedule',
      snapshot: alarm.snapshot
        ? {
            sha256: alarm.snapshot.sha256,
            contentType: alarm.snapshot.contentType,
            size: alarm.snapshot.size,
          }
        : null,
    },
  };
}

/** The evidence in words (English), for the deviation's summary. */
export function videoAlarmText(e: Record<string, unknown>): string {
  const snap = e.snapshot as { sha256?: string } | null | undefined;
  return (
    `camera ${String(e.platform)}/${String(e.cameraId)} at ${String(e.alarmTimeText)} Asia/Shanghai, ` +
    `alarm ${String(e.platformEventId)}; ` +
    (snap?.sha256 ? `snapshot sha256 ${snap.sha256}` : 'no snapshot')
  );
}
