/** The review workflow's vocabulary, shared by case handling and the report outcomes it records. */
export const REVIEW_STATES = [
  'new',
  'acknowledged',
  'rectification-requested',
  'inspection',
  'confirmed',
  'dismissed',
  'closed',
] as const;
export type ReviewState = (typeof REVIEW_STATES)[number];

export type ReviewAction =
  | { action: 'acknowledge' }
  | { action: 'assign'; assigneeId: string }
  | { action: 'comment'; body: string }
  | { action: 'request-rectification'; deadline: string; note?: string }
  | { action: 'confirm'; decision: 'no-penalty' | 'penalty' | 'judicial-referral'; note?: string }
  | { action: 'dismiss'; reason: string }
  | { action: 'escalate'; note?: string }
  | { action: 'close'; note?: string };
