let csrf = '';
export function setCsrf(token: string): void {
  csrf = token;
}
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    /** The server's bilingual message (zh-CN / English) and the field it names, when it gave them. */
    readonly detail?: string,
    readonly field?: string,
  ) {
    super(code);
  }
}
export async function api<T>(method: string, url: string, body?: unknown): Promise<T> {
  const headers: Record<string, string> = {};
  if (body !== undefined) headers['content-type'] = 'application/json';
  if (method !== 'GET') headers['x-csrf-token'] = csrf;
  const r = await fetch(url, {
    method,
    headers,
    credentials: 'same-origin',
    ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
  });
  const text = await r.text();
  const data = text ? JSON.parse(text) : {};
  if (!r.ok) throw new ApiError(r.status, data.code ?? 'ERROR', data.message, data.field);
  return data as T;
}
/** A multipart upload (the browser sets the boundary), with the same CSRF header and errors as api(). */
export async function apiForm<T>(url: string, form: FormData): Promise<T> {
  const r = await fetch(url, {
    method: 'POST',
    headers: { 'x-csrf-token': csrf },
    credentials: 'same-origin',
    body: form,
  });
  const text = await r.text();
  const data = text ? JSON.parse(text) : {};
  if (!r.ok) throw new ApiError(r.status, data.code ?? 'ERROR', data.message, data.field);
  return data as T;
}
