// axe-core in the console's browser tests: injects axe-core's source into a playwright-core page and
// returns the serious and critical violations (rule id, the elements' selectors, the help text).
// The source goes in through the DevTools protocol (page.evaluate), which the console's CSP does not
// govern, so the page keeps running under its own policy.
import axe from 'axe-core';
import type { Page } from 'playwright-core';

export interface A11yViolation {
  rule: string;
  impact: 'serious' | 'critical';
  help: string;
  helpUrl: string;
  /** One CSS selector per offending element, with axe's summary of what to fix. */
  nodes: { target: string; summary: string }[];
}

interface AxeNode {
  target: unknown[];
  failureSummary?: string;
}
interface AxeResult {
  id: string;
  impact?: string | null;
  help: string;
  helpUrl: string;
  nodes: AxeNode[];
}

/** The serious and critical axe-core violations of what `page` shows now. */
export async function seriousViolations(page: Page): Promise<A11yViolation[]> {
  const loaded = await page.evaluate('typeof window.axe === "object"');
  if (!loaded) await page.evaluate(axe.source);
  const results = (await page.evaluate(
    '(async () => (await window.axe.run(document, { resultTypes: ["violations"] })).violations)()',
  )) as AxeResult[];
  return results
    .filter((v) => v.impact === 'serious' || v.impact === 'critical')
    .map((v) => ({
      rule: v.id,
      impact: v.impact as 'serious' | 'critical',
      help: v.help,
      helpUrl: v.helpUrl,
      nodes: v.nodes.map((n) => ({
        target: n.target.map(String).join(' '),
        summary: (n.failureSummary ?? '').replace(/\s+/g, ' ').trim(),
      })),
    }));
}

/** Violations as lines a reader can act on: the page, the rule, the help text and each element. */
export function describeViolations(where: string, violations: A11yViolation[]): string {
  return violations
    .map(
      (v) =>
        `${where}: [${v.impact}] ${v.rule}: ${v.help} (${v.helpUrl})\n` +
        v.nodes.map((n) => `    ${n.target} — ${n.summary}`).join('\n'),
    )
    .join('\n');
}
