// CONTRACT.md "Every response": X-Request-ID, X-Trace-Id (+ traceparent), Server-Timing.
import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { authHeaders } from './lib/config.js';
import { get, postJson, request } from './lib/http.js';
import { expectCommonHeaders, header, REQUEST_ID_RE, TRACE_ID_RE } from './lib/shapes.js';

const hex = (n: number) => randomBytes(n).toString('hex');

// One of each kind of response: success, error, streaming.
const probes = [
  { name: 'GET /health', send: (h: Record<string, string>) => get('/health', h) },
  { name: 'GET /ready', send: (h: Record<string, string>) => get('/ready', h) },
  { name: 'GET 404', send: (h: Record<string, string>) => get('/no-such-route', { ...authHeaders(), ...h }) },
  { name: 'POST /v1/chat', send: (h: Record<string, string>) => postJson('/v1/chat', { message: 'hello' }, { ...authHeaders(), ...h }) },
  { name: 'POST /v1/chat 422', send: (h: Record<string, string>) => postJson('/v1/chat', { message: '' }, { ...authHeaders(), ...h }) },
  {
    name: 'POST /v1/chat 400',
    send: (h: Record<string, string>) =>
      request({ path: '/v1/chat', headers: { ...authHeaders(), 'content-type': 'application/json', ...h }, body: '{"message":' }),
  },
  {
    name: 'POST /v1/chat/stream',
    send: (h: Record<string, string>) => postJson('/v1/chat/stream', { message: 'hello' }, { ...authHeaders(), ...h }),
  },
];

describe.each(probes)('$name', ({ send }) => {
  it('carries X-Request-ID, X-Trace-Id and Server-Timing', async () => {
    const res = await send({});
    expectCommonHeaders(res);
  });

  it('echoes a valid X-Request-ID', async () => {
    for (const rid of ['abc', `req-${hex(8)}`, 'A.b_c-1', 'x'.repeat(128)]) {
      const res = await send({ 'x-request-id': rid });
      expect(header(res, 'x-request-id')).toBe(rid);
    }
  });

  it('replaces an invalid X-Request-ID with a new valid one', async () => {
    for (const bad of ['x'.repeat(129), 'has space', 'semi;colon', 'slash/no', 'ünïcode', '<script>', 'a,b']) {
      const res = await send({ 'x-request-id': bad });
      const got = header(res, 'x-request-id');
      expect(got, `for ${JSON.stringify(bad)}`).toMatch(REQUEST_ID_RE);
      expect(got).not.toBe(bad);
    }
  });

  it('generates different request ids and trace ids per request', async () => {
    const a = await send({});
    const b = await send({});
    expect(header(a, 'x-request-id')).not.toBe(header(b, 'x-request-id'));
    expect(header(a, 'x-trace-id')).not.toBe(header(b, 'x-trace-id'));
  });

  it('continues an incoming traceparent', async () => {
    const traceId = hex(16);
    const res = await send({ traceparent: `00-${traceId}-${hex(8)}-01` });
    expect(header(res, 'x-trace-id')).toBe(traceId);
    if (res.json && typeof res.json === 'object') {
      const bodyTrace = res.json.trace_id ?? res.json.error?.trace_id;
      if (bodyTrace !== undefined) expect(bodyTrace).toBe(traceId);
    }
  });

  it('starts a new trace for an invalid traceparent', async () => {
    const cases: [string, string | null][] = [
      ['garbage', null],
      [`00-${'0'.repeat(32)}-${hex(8)}-01`, '0'.repeat(32)], // all-zero trace id is invalid
      ['00-' + 'ab'.repeat(16) + '-' + '0'.repeat(16) + '-01', 'ab'.repeat(16)], // all-zero parent id is invalid
      ['ff-' + 'cd'.repeat(16) + '-' + hex(8) + '-01', 'cd'.repeat(16)], // version ff is invalid
      ['00-' + 'ef'.repeat(15) + '-' + hex(8) + '-01', null], // short trace id
    ];
    for (const [bad, embedded] of cases) {
      const res = await send({ traceparent: bad });
      const tid = header(res, 'x-trace-id');
      expect(tid, bad).toMatch(TRACE_ID_RE);
      expect(tid, bad).not.toBe('0'.repeat(32));
      if (embedded) expect(tid, `continued the invalid traceparent ${bad}`).not.toBe(embedded);
    }
  });
});

describe('trace id in bodies', () => {
  it('the /v1/chat trace_id equals X-Trace-Id', async () => {
    const res = await postJson('/v1/chat', { message: 'hello' }, authHeaders());
    expect(res.status, res.text).toBe(200);
    expect(res.json.trace_id).toBe(header(res, 'x-trace-id'));
  });
});
