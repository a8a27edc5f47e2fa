// The signed-in user of this browser tab: the session the console's cookie holds, its CSRF token, login
// and logout, and the live-update stream (`/api/stream`) the pages listen to while someone is signed in.
import { ref, watch } from 'vue';
import { api, setCsrf } from './api';

export interface User {
  username: string;
  displayName: string;
  role: string;
  enterpriseId?: string | null;
  districtId: string | null;
}

export const user = ref<User | null>(null);

let resolveReady: () => void = () => undefined;
/** Settles once the session at start-up was asked for (signed in or not). */
export const sessionReady = new Promise<void>((r) => (resolveReady = r));

/** Asks the server for this browser's session (at start-up). */
export async function loadSession(): Promise<void> {
  try {
    const r = await api<{ user: User; csrfToken: string }>('GET', '/api/session');
    setCsrf(r.csrfToken);
    user.value = r.user;
  } catch {
    user.value = null;
  } finally {
    resolveReady();
  }
}

/** Signs in; false when the server refused the credentials. */
export async function login(username: string, password: string): Promise<boolean> {
  try {
    const r = await api<{ user: User; csrfToken: string }>('POST', '/api/login', { username, password });
    setCsrf(r.csrfToken);
    user.value = r.user;
    return true;
  } catch {
    return false;
  }
}

export async function logout(): Promise<void> {
  await api('POST', '/api/logout', {}).catch(() => undefined);
  user.value = null;
}

/** Roles that take review actions and keep the registry true (officers within their district's scope). */
export const STAFF_ROLES = ['admin', 'city-supervisor', 'district-officer'];

const caseListeners = new Set<() => void>();
/**
 * Calls `fn` when a case changed, or when the server lost its LISTEN connection and changes may have been
 * missed (`resync`). Returns the function that stops it.
 */
export function onCaseChange(fn: () => void): () => void {
  caseListeners.add(fn);
  return () => caseListeners.delete(fn);
}

let stream: EventSource | null = null;
watch(user, (u) => {
  stream?.close();
  stream = null;
  if (!u) return;
  stream = new EventSource('/api/stream');
  const notify = () => caseListeners.forEach((fn) => fn());
  stream.addEventListener('case', notify);
  stream.addEventListener('resync', notify);
  // The session ended (logout elsewhere, expiry): no reconnect attempts.
  stream.addEventListener('session-ended', () => stream?.close());
});
