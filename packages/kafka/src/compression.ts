/** True for a loopback host name or address (127.0.0.0/8, ::1, localhost). */
export function isLoopbackHost(host: string): boolean {
  const h = host.replace(/^\[|\]$/g, '').toLowerCase();
  return h === 'localhost' || h === '::1' || /^127\.\d+\.\d+\.\d+$/.test(h);
}

/**
 * Produce compression from a setting: `auto` is none when every broker is on loopback (compressing
 * costs CPU on the producer and on every consumer and saves no network there) and gzip otherwise.
 */
export function resolveCompression(
  setting: 'auto' | 'none' | 'gzip',
  brokers: readonly string[],
): 'none' | 'gzip' {
  if (setting !== 'auto') return setting;
  const hosts = brokers.map((b) => b.replace(/:\d+$/, ''));
  return hosts.length > 0 && hosts.every(isLoopbackHost) ? 'none' : 'gzip';
}
