// A Redis URL → the connection options ioredis and BullMQ take. Workers need
// `maxRetriesPerRequest: null` (BullMQ refuses blocking commands that give up), so it is set here.
//
//   redis://[user:password@]host[:port][/db]                       plaintext
//   rediss://[user:password@]host[:port][/db]                      TLS, server certificate verified
//   redis+sentinel://[user:password@]host:port[,host:port…]/master[/db]   through Sentinel
//   rediss+sentinel://…                                           through Sentinel, TLS to Sentinels and Redis
//
// user:password are Redis's (AUTH / ACL user); a Sentinel's own password comes separately
// (`sentinelPassword`, OFFSITE_REDIS_SENTINEL_PASSWORD), and so does the CA (`ca`, OFFSITE_REDIS_CA_FILE).
import { OffsiteError } from './errors.js';

export interface RedisConnectionOptions {
  host?: string;
  port?: number;
  username?: string;
  password?: string;
  db?: number;
  /** TLS to Redis (rediss); `ca` replaces the system's CAs. */
  tls?: { ca?: string };
  /** Sentinel mode: where the Sentinels are and the name of the master they watch. */
  sentinels?: { host: string; port: number }[];
  name?: string;
  sentinelPassword?: string;
  sentinelTLS?: { ca?: string };
  enableTLSForSentinelMode?: boolean;
  maxRetriesPerRequest: null;
}

export interface RedisTlsOptions {
  /** PEM of the CA that signed the servers' certificates. */
  ca?: string;
  sentinelPassword?: string;
}

const invalid = (message: string, cause?: unknown) =>
  new OffsiteError('REDIS_URL_INVALID', message, { retryable: false, ...(cause ? { cause } : {}) });

function hostPort(text: string, defaultPort: number): { host: string; port: number } {
  const m = /^(\[[^\]]+\]|[^:]+)(?::(\d+))?$/.exec(text);
  if (!m) throw invalid(`bad host:port ${JSON.stringify(text)}`);
  const port = m[2] === undefined ? defaultPort : Number(m[2]);
  if (!(port > 0 && port < 65536)) throw invalid(`bad port in ${JSON.stringify(text)}`);
  return { host: m[1]!.replace(/^\[|\]$/g, ''), port };
}

function database(text: string | undefined): number | undefined {
  if (text === undefined || text === '') return undefined;
  const db = Number(text);
  if (!(/^\d+$/.test(text) && Number.isInteger(db))) throw invalid(`database ${text} is not a number`);
  return db;
}

function credentials(userinfo: string): { username?: string; password?: string } {
  if (userinfo === '') return {};
  const at = userinfo.indexOf(':');
  const user = decodeURIComponent(at < 0 ? userinfo : userinfo.slice(0, at));
  const password = at < 0 ? '' : decodeURIComponent(userinfo.slice(at + 1));
  return { ...(user ? { username: user } : {}), ...(password ? { password } : {}) };
}

export function redisConnectionOptions(url: string, tls: RedisTlsOptions = {}): RedisConnectionOptions {
  const m = /^([a-z+]+):\/\/(?:([^@/]*)@)?([^/]*)(?:\/(.*))?$/.exec(url);
  if (!m) throw invalid('not a redis:// URL');
  const [, scheme, userinfo = '', hosts = '', path] = m;
  const ca = tls.ca !== undefined ? { ca: tls.ca } : {};
  try {
    if (scheme === 'redis' || scheme === 'rediss') {
      if (hosts === '') throw invalid('no host');
      const db = database(path);
      return {
        ...hostPort(hosts, 6379),
        ...credentials(userinfo),
        ...(db !== undefined ? { db } : {}),
        ...(scheme === 'rediss' ? { tls: ca } : {}),
        maxRetriesPerRequest: null,
      };
    }
    if (scheme === 'redis+sentinel' || scheme === 'rediss+sentinel') {
      const sentinels = hosts.split(',').map((h) => hostPort(h, 26379));
      const [name, dbText, ...rest] = (path ?? '').split('/');
      if (!name) throw invalid('a Sentinel URL names the master after the hosts (…/mymaster)');
      if (rest.length > 0) throw invalid('too many path parts (…/master[/db])');
      const db = database(dbText);
      const secure = scheme === 'rediss+sentinel';
      return {
        sentinels,
        name: decodeURIComponent(name),
        ...credentials(userinfo),
        ...(db !== undefined ? { db } : {}),
        ...(tls.sentinelPassword ? { sentinelPassword: tls.sentinelPassword } : {}),
        ...(secure ? { tls: ca, sentinelTLS: ca, enableTLSForSentinelMode: true } : {}),
        maxRetriesPerRequest: null,
      };
    }
  } catch (e) {
    if (e instanceof OffsiteError) throw e;
    throw invalid('malformed URL', e);
  }
  throw invalid(`unsupported scheme ${scheme}: (use redis, rediss, redis+sentinel or rediss+sentinel)`);
}
