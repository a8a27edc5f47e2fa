export { buildApp, SESSION_COOKIE, type ConsoleAppOptions } from './app.js';
export { seedDemoUsers, type SeededUser } from './seed.js';
export { upsertUser, hashPassword } from './auth.js';
