/** Reads a server address that `offsite-infra up` wrote to .offsite/env; fails clearly when it is missing. */
export function requireEnv(name: string): string {
  const v = process.env[name];
  if (!v)
    throw new Error(
      `${name} is not set: start the servers with \`npm run infra -- up\` (integration tests read .offsite/env)`,
    );
  return v;
}

export interface SilentLogger {
  debug(obj: object, msg?: string): void;
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
  child(bindings: Record<string, unknown>): SilentLogger;
}

export const silentLogger: SilentLogger = {
  debug: () => undefined,
  info: () => undefined,
  warn: () => undefined,
  error: () => undefined,
  child: () => silentLogger,
};

/** Polls until `cond` holds, failing with `what` after `ms`. */
export async function until(cond: () => boolean | Promise<boolean>, ms: number, what: string): Promise<void> {
  const end = Date.now() + ms;
  while (!(await cond())) {
    if (Date.now() > end) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

export { runService, readyStatus, serviceNodeArgs, type ServiceProcess } from './service-process.js';
export { influxql } from './influxql.js';
export { relay, startProxy, type CuttableProxy } from './proxy.js';
export { hj212HourlyUpload } from './hj212.js';
export { readSinkHeads, readSinkMails, scanHeaders, type SinkHead, type SinkMail } from './mail.js';
