/** Who is asking, as the session resolved it. Every repository function takes one. */
import { ROLES, type Role } from '@offsite/domain';

export { ROLES, type Role };

export interface Principal {
  userId: string;
  username: string;
  displayName: string;
  role: Role;
  districtId: string | null;
  enterpriseId: string | null;
}

/** Roles that may take review actions on deviation cases. */
export function canReview(p: Principal): boolean {
  return p.role === 'admin' || p.role === 'city-supervisor' || p.role === 'district-officer';
}

/** Roles that may edit the registry (an officer: its own district's enterprises, through the scope). */
export function canEditRegistry(p: Principal): boolean {
  return p.role === 'admin' || p.role === 'city-supervisor' || p.role === 'district-officer';
}

/**
 * The SQL predicate that limits rows to what the principal may see. `enterpriseAlias` names a
 * row of `enterprises`; `caseAlias` (optional) a row of `review_cases`. Values go into `params`
 * as placeholders — the scope is part of every query, never a filter applied afterwards in JS.
 */
export function scopeSql(
  p: Principal,
  params: unknown[],
  enterpriseAlias: string,
  caseAlias?: string,
): string {
  switch (p.role) {
    case 'admin':
    case 'city-supervisor':
    case 'viewer':
      return 'true';
    case 'district-officer':
      params.push(p.districtId);
      return `${enterpriseAlias}.district_id = $${params.length}`;
    case 'enterprise': {
      params.push(p.enterpriseId);
      const own = `${enterpriseAlias}.id = $${params.length}`;
      // Suspected falsification is for supervisors only.
      return caseAlias ? `${own} and not ${caseAlias}.suspected_falsification` : own;
    }
  }
}
