// Who is asking: the console resolves the user's role and district per request and passes it in;
// its repositories filter their SQL by the Scope server-side. Roles are the bureau's one role model
// (@offsite/domain); enterprise users have no regulatory capability.
import type { Role } from '@offsite/domain';
import { regulationError } from './errors.js';

export interface Scope {
  userId: string;
  role: Role;
  /** The user's district; null means city-wide (admins, city supervisors, viewers). */
  districtId: string | null;
}

/**
 * Roles allowed per capability. Viewers only read. A district officer's draws and campaigns cover its
 * own district (the repositories filter by the scope's district); publication stays with the city.
 */
export const CAPABILITIES = {
  decidePositiveList: ['admin', 'city-supervisor'],
  proposeRemoval: ['admin', 'city-supervisor', 'district-officer'],
  runDraw: ['admin', 'city-supervisor', 'district-officer'],
  publishDraw: ['admin', 'city-supervisor'],
  recordInspection: ['admin', 'city-supervisor', 'district-officer'],
  handleComplaint: ['admin', 'city-supervisor', 'district-officer'],
  runCampaign: ['admin', 'city-supervisor', 'district-officer'],
  recordOutcome: ['admin', 'city-supervisor', 'district-officer'],
} as const satisfies Record<string, readonly Role[]>;

export type Capability = keyof typeof CAPABILITIES;

export function requireCapability(scope: Scope, capability: Capability): void {
  if (!(CAPABILITIES[capability] as readonly Role[]).includes(scope.role)) {
    throw regulationError('FORBIDDEN', `role ${scope.role} may not ${capability}`, {
      details: { role: scope.role, capability },
    });
  }
}

/** A district the scope may see: its own, or any when city-wide. */
export function inScope(scope: Scope, districtId: string): boolean {
  return scope.districtId === null || scope.districtId === districtId;
}
