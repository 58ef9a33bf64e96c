/** Assertions on the shapes CONTRACT.md fixes. */
import { expect } from 'vitest';
import type { Res } from './http.js';

export const REQUEST_ID_RE = /^[A-Za-z0-9._-]{1,128}$/;
export const TRACE_ID_RE = /^[0-9a-f]{32}$/;
export const SESSION_ID_RE = /^[A-Za-z0-9_-]{1,64}$/;
export const SERVER_TIMING_RE = /(^|,)\s*app;\s*dur=\d+(\.\d+)?\s*(,|;|$)/;

export const ERROR_STATUS: Record<string, number> = {
  bad_request: 400,
  unauthorized: 401,
  not_found: 404,
  payload_too_large: 413,
  unsupported_media_type: 415,
  validation_error: 422,
  rate_limited: 429,
  budget_exceeded: 429,
  upstream_error: 502,
  shutting_down: 503,
  store_unavailable: 503,
  upstream_timeout: 504,
  internal_error: 500,
};

function header(res: Res, name: string): string | undefined {
  const v = res.headers[name.toLowerCase()];
  return Array.isArray(v) ? v.join(', ') : v;
}
export { header };

/** The headers every response carries (CONTRACT.md "Every response"). */
export function expectCommonHeaders(res: Res, ctx = ''): void {
  const rid = header(res, 'x-request-id');
  expect(rid, `${ctx} X-Request-ID`).toMatch(REQUEST_ID_RE);
  const tid = header(res, 'x-trace-id');
  expect(tid, `${ctx} X-Trace-Id`).toMatch(TRACE_ID_RE);
  expect(tid, `${ctx} X-Trace-Id is not the invalid all-zero id`).not.toBe('0'.repeat(32));
  const st = header(res, 'server-timing');
  expect(st, `${ctx} Server-Timing`).toMatch(SERVER_TIMING_RE);
}

export function isJsonContentType(res: Res): boolean {
  const ct = header(res, 'content-type') ?? '';
  return /^application\/(problem\+)?json\b/i.test(ct);
}

/** The one error shape (CONTRACT.md "Errors"). Returns the error object. */
export function expectErrorShape(res: Res, status: number | null, code: string | string[] | null, ctx = ''): any {
  const where = `${ctx} ${res.status} ${res.text.slice(0, 300)}`;
  if (status !== null) expect(res.status, where).toBe(status);
  expect(isJsonContentType(res), `${where}: content-type ${header(res, 'content-type')}`).toBe(true);
  expect(res.json, `${where}: body is JSON`).toBeTypeOf('object');
  expect(res.json, where).not.toBeNull();
  expect(Object.keys(res.json), `${where}: only "error" at the top level`).toEqual(['error']);
  const err = res.json.error;
  expect(err, where).toBeTypeOf('object');
  expect(err.code, where).toBeTypeOf('string');
  expect(err.message, where).toBeTypeOf('string');
  expect(err.message.length, `${where}: message is not empty`).toBeGreaterThan(0);
  expect(err.trace_id, where).toMatch(TRACE_ID_RE);
  expect(err.trace_id, `${where}: error.trace_id equals X-Trace-Id`).toBe(header(res, 'x-trace-id'));
  expect(Array.isArray(err.details), `${where}: details is an array`).toBe(true);
  if (code !== null) {
    const codes = Array.isArray(code) ? code : [code];
    expect(codes, where).toContain(err.code);
  }
  // A known code goes with its status.
  if (err.code in ERROR_STATUS) expect(res.status, `${where}: status of ${err.code}`).toBe(ERROR_STATUS[err.code]);
  expectNoLeak(res, ctx);
  return err;
}

/** Never a stack trace or an internal path in an error body. */
export function expectNoLeak(res: Res, ctx = ''): void {
  const t = res.text;
  for (const bad of ['Traceback (most recent call last)', 'File "/', '.py", line ', 'site-packages', 'Exception:']) {
    expect(t.includes(bad), `${ctx}: body leaks "${bad}": ${t.slice(0, 300)}`).toBe(false);
  }
}

/** The /v1/chat response object (also the SSE `done` payload). */
export function expectChatShape(body: any, ctx = ''): void {
  const where = `${ctx} ${JSON.stringify(body)?.slice(0, 400)}`;
  expect(body, where).toBeTypeOf('object');
  expect(body.answer, where).toBeTypeOf('string');
  expect(body.session_id, where).toMatch(SESSION_ID_RE);
  expect(body.trace_id, where).toMatch(TRACE_ID_RE);
  expect(body.usage, where).toBeTypeOf('object');
  expect(Number.isInteger(body.usage.input_tokens) && body.usage.input_tokens >= 0, `${where}: usage.input_tokens`).toBe(true);
  expect(Number.isInteger(body.usage.output_tokens) && body.usage.output_tokens >= 0, `${where}: usage.output_tokens`).toBe(true);
  expect(Array.isArray(body.tool_calls), `${where}: tool_calls`).toBe(true);
  for (const tc of body.tool_calls) {
    expect(tc.name, where).toBeTypeOf('string');
    expect(['ok', 'error'], where).toContain(tc.status);
  }
  expect(body.model, `${where}: model (the model that answered)`).toBeTypeOf('string');
  expect(typeof body.latency_ms === 'number' && Number.isFinite(body.latency_ms) && body.latency_ms >= 0, `${where}: latency_ms`).toBe(true);
}
