/**
 * Fixture packets (field-captures and standard-examples copied from shared/fixtures/hj212;
 * field-quirks built for the tests): each with the comment line above it.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

export interface FixturePacket {
  readonly comment: string;
  readonly line: string;
}

export function loadFixture(
  name: 'field-captures.txt' | 'standard-examples.txt' | 'field-quirks.txt',
): FixturePacket[] {
  const text = readFileSync(fileURLToPath(new URL(`./fixtures/${name}`, import.meta.url)), 'utf8');
  const out: FixturePacket[] = [];
  let comment = '';
  for (const line of text.split('\n')) {
    if (line.startsWith('#') && !line.startsWith('##')) comment = line.slice(1).trim();
    else if (line.startsWith('##')) out.push({ comment, line });
  }
  return out;
}
