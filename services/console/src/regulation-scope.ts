import type { Scope } from '@offsite/regulation';
import { ConsoleError } from './errors.js';
import type { Principal } from './principal.js';

/** The console's principal as @offsite/regulation's scope; enterprise users have no regulatory view. */
export function regulationScope(p: Principal): Scope {
  switch (p.role) {
    case 'admin':
      return { userId: p.username, role: 'admin', districtId: null };
    case 'city-supervisor':
      return { userId: p.username, role: 'supervisor', districtId: null };
    case 'district-officer':
      return { userId: p.username, role: 'officer', districtId: p.districtId };
    case 'viewer':
      return { userId: p.username, role: 'viewer', districtId: null };
    case 'enterprise':
      throw new ConsoleError('FORBIDDEN', 'enterprise users have no access to regulatory features');
  }
}
