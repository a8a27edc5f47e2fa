// The console's regulatory features over Postgres and BullMQ (domain-rules §4–§6): repositories of
// the console's regulation tables (migration 040), the complaint and report reminders, the outreach
// dispatcher and the `/regulation` routes. The rules, draws, eligibility, deadlines and report
// figures' shape are @offsite/regulation's (pure).
export type { Db, Queryable } from './db.js';
export * from './positive-list.js';
export * from './draws.js';
export * from './complaints-repo.js';
export * from './reminders.js';
export * from './outreach.js';
export * from './reports.js';
export { registerRegulationRoutes, type RegulationRouteDeps } from './routes.js';
