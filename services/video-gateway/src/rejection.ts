/**
 * Why a webhook request was refused: the HTTP status, a machine-readable code (`video.<problem>`, the
 * DLQ reason), the request field it concerns (a header name or the body's JSON pointer without the
 * leading slash, e.g. `snapshot.contentType`), and the reason in English and Chinese.
 */
export interface Rejection {
  status: 400 | 401 | 409 | 413 | 415 | 422 | 429;
  code: string;
  field: string;
  message: string;
  messageZh: string;
}

export const reject = (
  status: Rejection['status'],
  code: string,
  field: string,
  message: string,
  messageZh: string,
): Rejection => ({ status, code: `video.${code}`, field, message, messageZh });

/** The answer's body: `{ error: { code, field, message, messageZh } }`. */
export const rejectionBody = (r: Rejection) => ({
  error: { code: r.code, field: r.field, message: r.message, messageZh: r.messageZh },
});
