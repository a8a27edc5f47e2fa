/**
 * The bureau's user roles, one model for every service and package: the console's users
 * (`console_users.role`) and the regulatory features' capabilities are stated in these terms.
 * A district officer works in one district, an enterprise user for one enterprise.
 */
export const ROLES = ['admin', 'city-supervisor', 'district-officer', 'viewer', 'enterprise'] as const;
export type Role = (typeof ROLES)[number];
