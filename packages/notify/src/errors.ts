import { OffsiteError } from '@offsite/runtime/errors';

/**
 * Why a send failed. Callers decide by `retryable` (try the same provider again later) and by
 * `failover` (another provider of the same channel may succeed: the provider is down or refuses us,
 * not the recipient or the content).
 */
export type NotifyErrorCode =
  | 'NOTIFY_INVALID_RECIPIENT' // bad phone number / mailbox: permanent, no failover
  | 'NOTIFY_CONTENT_REJECTED' // template rejected / missing parameter: permanent, no failover
  | 'NOTIFY_RATE_LIMITED' // provider throttled us: retry later
  | 'NOTIFY_PROVIDER_UNAVAILABLE' // network, 5xx, timeouts: retry, or fail over
  | 'NOTIFY_PROVIDER_REJECTED' // auth failure, balance exhausted, unknown provider error: fail over
  | 'NOTIFY_BAD_RESPONSE' // unparsable provider answer: retry
  | 'NOTIFY_CONFIG_INVALID'
  | 'NOTIFY_RECEIPT_INVALID';

export class NotifyError extends OffsiteError<NotifyErrorCode> {
  /** Another provider for the same channel may succeed. */
  readonly failover: boolean;
  constructor(
    code: NotifyErrorCode,
    message: string,
    options: {
      retryable?: boolean;
      failover?: boolean;
      cause?: unknown;
      details?: Record<string, unknown>;
    } = {},
  ) {
    super(code, message, options);
    this.failover = options.failover ?? false;
  }
}

/** The provider's template for our template key; a key without one is content the provider cannot send. */
export function configuredTemplate<T>(templates: Record<string, T>, key: string, provider: string): T {
  const t = templates[key];
  if (t === undefined)
    throw new NotifyError('NOTIFY_CONTENT_REJECTED', `no ${provider} template configured for ${key}`);
  return t;
}

export function isNotifyError(e: unknown): e is NotifyError {
  return e instanceof NotifyError;
}
