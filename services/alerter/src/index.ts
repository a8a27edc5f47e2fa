// What other services (the console) mount: the acknowledgement function and the alerter itself.
export { createAlerter, type Alerter, type AlerterOptions } from './app.js';
export { signAckToken, verifyAckToken, type AckClaims } from './ack.js';
export {
  decide,
  defaultPolicy,
  afterQuietHours,
  groupKeyFor,
  type AlertPolicy,
  type PolicyEntry,
} from './policy.js';
