// Who is asking: the console resolves the user's role and district per request and passes it in.
// Every repository function takes a Scope and filters its SQL by it server-side.
import { regulationError } from './errors.js';

export type Role = 'admin' | 'supervisor' | 'officer' | 'viewer';

export interface Scope {
  userId: string;
  role: Role;
  /** The user's district; null means city-wide (only admins and city-level supervisors). */
  districtId: string | null;
}

/** Roles allowed per capability. Viewers only read. */
export const CAPABILITIES = {
  decidePositiveList: ['admin', 'supervisor'],
  proposeRemoval: ['admin', 'supervisor', 'officer'],
  runDraw: ['admin', 'supervisor'],
  publishDraw: ['admin', 'supervisor'],
  recordInspection: ['admin', 'supervisor', 'officer'],
  handleComplaint: ['admin', 'supervisor', 'officer'],
  runCampaign: ['admin', 'supervisor'],
  submitReport: ['admin', 'supervisor', 'officer'],
  recordOutcome: ['admin', 'supervisor', 'officer'],
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
