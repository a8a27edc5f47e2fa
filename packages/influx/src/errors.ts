export type InfluxErrorCode =
  | 'INFLUX_UNAVAILABLE' // connection refused, timeout, 5xx: retry later
  | 'INFLUX_THROTTLED' // 429: retry after the advised delay
  | 'INFLUX_TOO_LARGE' // 413: split the batch
  | 'INFLUX_REJECTED' // 400/422: the data itself is refused (partial write or bad line)
  | 'INFLUX_AUTH' // 401/403: configuration problem
  | 'INFLUX_QUERY_FAILED';

export class InfluxError extends Error {
  constructor(
    readonly code: InfluxErrorCode,
    message: string,
    readonly retryable: boolean,
    readonly status?: number,
    readonly retryAfterMs?: number,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'InfluxError';
  }
}

/** Maps a client error (HttpError or a socket error) to a coded error with a retry decision. */
export function classifyInfluxError(err: unknown): InfluxError {
  const e = err as {
    statusCode?: number;
    message?: string;
    body?: string;
    code?: string;
    retryAfter?: () => number;
  };
  const status = typeof e?.statusCode === 'number' ? e.statusCode : undefined;
  const detail = (e?.body || e?.message || String(err)).slice(0, 500);
  if (status === undefined)
    return new InfluxError(
      'INFLUX_UNAVAILABLE',
      `InfluxDB unreachable: ${detail}`,
      true,
      undefined,
      undefined,
      { cause: err },
    );
  if (status === 429) {
    const after = typeof e.retryAfter === 'function' ? e.retryAfter() * 1000 : undefined;
    return new InfluxError(
      'INFLUX_THROTTLED',
      `InfluxDB throttled the write: ${detail}`,
      true,
      status,
      after,
      { cause: err },
    );
  }
  if (status === 413)
    return new InfluxError(
      'INFLUX_TOO_LARGE',
      'InfluxDB refused the batch as too large',
      false,
      status,
      undefined,
      { cause: err },
    );
  if (status === 401 || status === 403)
    return new InfluxError(
      'INFLUX_AUTH',
      `InfluxDB refused the credentials: ${detail}`,
      false,
      status,
      undefined,
      { cause: err },
    );
  if (status >= 500 || status === 408)
    return new InfluxError(
      'INFLUX_UNAVAILABLE',
      `InfluxDB error ${status}: ${detail}`,
      true,
      status,
      undefined,
      { cause: err },
    );
  return new InfluxError(
    'INFLUX_REJECTED',
    `InfluxDB rejected the data (${status}): ${detail}`,
    false,
    status,
    undefined,
    { cause: err },
  );
}
