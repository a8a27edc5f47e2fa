import { OffsiteError } from '@offsite/runtime';

export type ConsoleErrorCode =
  | 'UNAUTHENTICATED'
  | 'FORBIDDEN'
  | 'CSRF_INVALID'
  | 'NOT_FOUND'
  | 'NO_DATA'
  | 'INVALID_TRANSITION'
  | 'INVALID_INPUT'
  | 'NOT_ELIGIBLE'
  | 'EVIDENCE_UNAVAILABLE'
  | 'RATE_LIMITED'
  | 'TOO_MANY_STREAMS'
  | 'BUSY';

const STATUS: Record<ConsoleErrorCode, number> = {
  UNAUTHENTICATED: 401,
  FORBIDDEN: 403,
  CSRF_INVALID: 403,
  NOT_FOUND: 404,
  NO_DATA: 404,
  INVALID_TRANSITION: 409,
  INVALID_INPUT: 400,
  NOT_ELIGIBLE: 409,
  EVIDENCE_UNAVAILABLE: 503,
  RATE_LIMITED: 429,
  TOO_MANY_STREAMS: 429,
  BUSY: 503,
};

/** Errors the API answers with; `statusCode` follows from the code. */
export class ConsoleError extends OffsiteError<ConsoleErrorCode> {
  get statusCode(): number {
    return STATUS[this.code];
  }
}

/** What a person is told, in Chinese, for an answer whose message is English only. */
const ZH_BY_CODE: Record<string, string> = {
  UNAUTHENTICATED: '请先登录',
  FORBIDDEN: '没有权限执行此操作',
  CSRF_INVALID: '页面已过期，请刷新后重试',
  NOT_FOUND: '未找到，或不在您的管辖范围内',
  OUT_OF_SCOPE: '未找到，或不在您的管辖范围内',
  NO_DATA: '没有数据',
  INVALID_TRANSITION: '当前状态下不能执行此操作',
  INVALID_INPUT: '输入有误',
  NOT_ELIGIBLE: '不符合条件',
  DRAW_EXISTS: '该期间已经抽取过',
  INSUFFICIENT_INSPECTORS: '检查人员不足',
  EVIDENCE_UNAVAILABLE: '监测数据暂时无法读取，请稍后再试',
  QUERY_FAILED: '服务暂时不可用，请稍后再试',
  BUSY: '服务繁忙，请稍后再试',
  RATE_LIMITED: '尝试次数过多，请稍后再试',
  TOO_MANY_STREAMS: '打开的实时页面过多',
  BAD_REQUEST: '请求有误',
  INTERNAL: '服务器内部错误',
};

/**
 * The message an error answer carries: the API speaks `中文 / English`. A message already in that form is
 * kept; an English-only one gets the Chinese sentence of its code in front, so every answer reads in both.
 */
export function bilingualMessage(code: string, message: string): string {
  if (/[\u4e00-\u9fff]/.test(message) && message.includes(' / ')) return message;
  return `${ZH_BY_CODE[code] ?? '请求未能完成'} / ${message}`;
}
