// Outreach campaigns: who a campaign goes to and the bilingual template rendered per contact.
import { regulationError } from './errors.js';

export type OutreachChannel = 'sms' | 'email';

export interface AudienceFilter {
  districtId?: string | null;
  industry?: string | null;
  /** Enterprises whose latest status entry is `resuming` with a resumption date in the last N days. */
  resumedWithinDays?: number | null;
}

export interface CampaignTemplate {
  zh: { subject?: string; body: string };
  en?: { subject?: string; body: string };
}

/** Placeholders a template may use. */
export const TEMPLATE_FIELDS = ['enterpriseName', 'contactName', 'districtName'] as const;
type TemplateVars = Record<(typeof TEMPLATE_FIELDS)[number], string>;

const PLACEHOLDER = /\{\{\s*([A-Za-z]+)\s*\}\}/g;

export function checkTemplate(t: CampaignTemplate): void {
  for (const text of [t.zh.subject, t.zh.body, t.en?.subject, t.en?.body]) {
    for (const m of (text ?? '').matchAll(PLACEHOLDER)) {
      if (!(TEMPLATE_FIELDS as readonly string[]).includes(m[1] ?? '')) {
        throw regulationError('INVALID_INPUT', `unknown template placeholder {{${m[1]}}}`, {
          details: { allowed: TEMPLATE_FIELDS },
        });
      }
    }
  }
}

export function renderTemplate(
  t: CampaignTemplate,
  language: 'zh' | 'en',
  vars: TemplateVars,
): { language: 'zh' | 'en'; subject: string | null; body: string } {
  const part = language === 'en' && t.en ? t.en : t.zh;
  const fill = (s: string): string =>
    s.replace(PLACEHOLDER, (_, k: string) => vars[k as keyof TemplateVars] ?? '');
  return {
    language: part === t.zh ? 'zh' : 'en',
    subject: part.subject ? fill(part.subject) : null,
    body: fill(part.body),
  };
}

/** One outbound message, as the console hands it to the alerter. */
export interface OutreachMessage {
  channel: OutreachChannel;
  to: string;
  language: 'zh' | 'en';
  subject: string | null;
  body: string;
  /** Message id (the alerter sends one id once): `campaign-<id>-msg-<id>`. */
  ref: string;
  /** The registry contact it goes to. */
  contactId: string;
}
