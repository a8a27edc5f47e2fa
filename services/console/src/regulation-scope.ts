import type { Scope } from '@offsite/regulation';
import { ConsoleError } from './errors.js';
import type { Principal } from './principal.js';

/** The console's principal as @offsite/regulation's scope (the same roles); enterprise users have no regulatory view. */
export function regulationScope(p: Principal): Scope {
  if (p.role === 'enterprise')
    throw new ConsoleError('FORBIDDEN', 'enterprise users have no access to regulatory features');
  return {
    userId: p.username,
    role: p.role,
    districtId: p.role === 'district-officer' ? p.districtId : null,
  };
}
