// CONTRACT.md "Errors": 400, 401, 413, 415, 422 (404 is in endpoints.test.ts, 429 in rate-limit.test.ts).
import { describe, expect, it } from 'vitest';
import { authHeaders, config } from './lib/config.js';
import { postJson, request } from './lib/http.js';
import { expectCommonHeaders, expectErrorShape } from './lib/shapes.js';

const json = { 'content-type': 'application/json' };
const routes = ['/v1/chat', '/v1/chat/stream'];

describe.each(routes)('POST %s', (route) => {
  describe('400 bad_request: malformed JSON', () => {
    for (const body of ['{"message":', '{message: "hi"}', "{'message': 'hi'}", '{"message":"hi"}}', '{"message":"hi",}', 'nul', '{"a"']) {
      it(JSON.stringify(body), async () => {
        const res = await request({ path: route, headers: { ...json, ...authHeaders() }, body });
        expectErrorShape(res, 400, 'bad_request', body);
        expectCommonHeaders(res, body);
      });
    }
    it('an empty body', async () => {
      const res = await request({ path: route, headers: { ...json, ...authHeaders() }, body: '' });
      expect([400, 422], res.text).toContain(res.status);
      expectErrorShape(res, null, ['bad_request', 'validation_error']);
    });
  });

  describe.runIf(config.authOn)('401 unauthorized', () => {
    const cases: [string, Record<string, string>][] = [
      ['no key', {}],
      ['wrong Bearer', { authorization: 'Bearer wrong-key' }],
      ['wrong X-API-Key', { 'x-api-key': 'wrong-key' }],
      ['Bearer with nothing', { authorization: 'Bearer ' }],
      ['Basic scheme with the key', { authorization: `Basic ${config.apiKey}` }],
      ['key prefix', { authorization: `Bearer ${(config.apiKey ?? '').slice(0, -1)}` }],
      ['key plus a character', { 'x-api-key': `${config.apiKey}x` }],
    ];
    for (const [name, headers] of cases) {
      it(name, async () => {
        const res = await postJson(route, { message: 'hello' }, headers);
        expectErrorShape(res, 401, 'unauthorized', name);
        expectCommonHeaders(res, name);
        expect(res.text.includes('wrong-key')).toBe(false);
      });
    }
    it('accepts the key as Authorization: Bearer', async () => {
      const res = await postJson(route, { message: 'hello' }, { authorization: `Bearer ${config.apiKey}` });
      expect(res.status, res.text).toBe(200);
    });
    it('accepts the key as X-API-Key', async () => {
      const res = await postJson(route, { message: 'hello' }, { 'x-api-key': config.apiKey! });
      expect(res.status, res.text).toBe(200);
    });
    it('a bad body without a key is 401: authentication comes before parsing', async () => {
      for (const [headers, body] of [
        [json, '{"message":'],
        [{ 'content-type': 'text/plain' }, 'hello'],
        [json, '{"message": ""}'],
      ] as const) {
        const res = await request({ path: route, headers, body });
        expectErrorShape(res, 401, 'unauthorized', body);
      }
    });
  });

  describe('415 unsupported_media_type', () => {
    for (const ct of ['text/plain', 'application/x-www-form-urlencoded', 'multipart/form-data; boundary=x', 'application/xml', 'application/jsonp', 'text/json-ish']) {
      it(ct, async () => {
        const res = await request({ path: route, headers: { 'content-type': ct, ...authHeaders() }, body: '{"message":"hello"}' });
        expectErrorShape(res, 415, 'unsupported_media_type', ct);
        expectCommonHeaders(res, ct);
      });
    }
    it('a body without Content-Type', async () => {
      const res = await request({ path: route, headers: authHeaders(), body: '{"message":"hello"}' });
      expectErrorShape(res, 415, 'unsupported_media_type');
    });
    it('accepts application/json with parameters and any case', async () => {
      for (const ct of ['application/json; charset=utf-8', 'Application/JSON']) {
        const res = await request({ path: route, headers: { 'content-type': ct, ...authHeaders() }, body: '{"message":"hello"}' });
        expect(res.status, `${ct}: ${res.text}`).toBe(200);
      }
    });
  });

  describe('422 validation_error with details', () => {
    const long = 'x'.repeat(config.maxMessageChars + 1);
    const cases: [string, unknown, string][] = [
      ['missing message', {}, 'message'],
      ['empty message', { message: '' }, 'message'],
      [`message over MAX_MESSAGE_CHARS (${config.maxMessageChars})`, { message: long }, 'message'],
      ['message a number', { message: 42 }, 'message'],
      ['message null', { message: null }, 'message'],
      ['message an array', { message: ['hi'] }, 'message'],
      ['session_id with a space', { message: 'hi', session_id: 'a b' }, 'session_id'],
      ['session_id 65 chars', { message: 'hi', session_id: 's'.repeat(65) }, 'session_id'],
      ['session_id empty', { message: 'hi', session_id: '' }, 'session_id'],
      ['session_id a number', { message: 'hi', session_id: 12 }, 'session_id'],
      ['user_id with a slash', { message: 'hi', user_id: 'a/b' }, 'user_id'],
      ['user_id 65 chars', { message: 'hi', user_id: 'u'.repeat(65) }, 'user_id'],
      ['body an array', [{ message: 'hi' }], ''],
      ['body a string', 'hi', ''],
      ['body null', null, ''],
    ];
    for (const [name, body, field] of cases) {
      it(name, async () => {
        const res = await postJson(route, body, authHeaders());
        const err = expectErrorShape(res, 422, 'validation_error', name);
        expectCommonHeaders(res, name);
        expect(err.details.length, `${name}: details lists something`).toBeGreaterThan(0);
        for (const d of err.details) {
          expect(d, `${name}: detail ${JSON.stringify(d)}`).toBeTypeOf('object');
          expect(d.field, `${name}: detail.field`).toBeTypeOf('string');
          expect(d.reason, `${name}: detail.reason`).toBeTypeOf('string');
          expect(d.reason.length).toBeGreaterThan(0);
        }
        if (field) {
          expect(
            err.details.some((d: any) => String(d.field).includes(field)),
            `${name}: a detail names ${field}: ${JSON.stringify(err.details)}`,
          ).toBe(true);
        }
        // Never echoes a huge input back.
        expect(res.body.length).toBeLessThan(16_384);
      });
    }
    it(`a message of exactly MAX_MESSAGE_CHARS (${config.maxMessageChars}) is accepted`, async () => {
      const res = await postJson(route, { message: 'y'.repeat(config.maxMessageChars) }, authHeaders());
      expect(res.status, res.text.slice(0, 300)).toBe(200);
    });
  });
});

describe('413 payload_too_large', () => {
  const limit = config.maxBodyBytes;
  const bigJson = (bytes: number) => {
    const head = '{"message":"';
    const tail = '"}';
    return head + 'a'.repeat(Math.max(0, bytes - head.length - tail.length)) + tail;
  };

  it(`a body of MAX_BODY_BYTES + 1 (${limit + 1}) with Content-Length`, async () => {
    const res = await request({ path: '/v1/chat', headers: { ...json, ...authHeaders() }, body: bigJson(limit + 1) });
    expectErrorShape(res, 413, 'payload_too_large');
    expectCommonHeaders(res);
  });

  it('a body well over the limit with Content-Length', async () => {
    const res = await request({ path: '/v1/chat/stream', headers: { ...json, ...authHeaders() }, body: bigJson(limit * 3) });
    expectErrorShape(res, 413, 'payload_too_large');
  });

  it('a chunked body without Content-Length that grows over the limit', async () => {
    const chunk = Buffer.alloc(64 * 1024, 'a');
    function* chunks() {
      yield Buffer.from('{"message":"');
      for (let sent = 0; sent <= limit + chunk.length; sent += chunk.length) yield chunk;
      yield Buffer.from('"}');
    }
    const res = await request({ path: '/v1/chat', headers: { ...json, ...authHeaders(), 'transfer-encoding': 'chunked' }, body: chunks() });
    expectErrorShape(res, 413, 'payload_too_large');
    expectCommonHeaders(res);
  });

  it('is refused before the body is read whole (Content-Length 64 MiB, only 64 KiB sent)', async () => {
    const total = 64 * 1024 * 1024;
    let sentAll = false;
    async function* slow() {
      yield Buffer.from('{"message":"');
      yield Buffer.alloc(64 * 1024, 'a');
      // Then stall: a server that waits for the whole body never answers.
      await new Promise((r) => setTimeout(r, 8000));
      sentAll = true;
    }
    const res = await request({
      path: '/v1/chat',
      headers: { ...json, ...authHeaders(), 'content-length': total },
      body: slow(),
      timeoutMs: 7000,
    });
    expect(sentAll).toBe(false);
    expectErrorShape(res, 413, 'payload_too_large');
  });

  it('a body just under the limit is not refused for its size', async () => {
    const res = await request({ path: '/v1/chat', headers: { ...json, ...authHeaders() }, body: bigJson(limit) });
    // It is over MAX_MESSAGE_CHARS, so a validation error, not 413.
    expect(res.status, res.text.slice(0, 200)).not.toBe(413);
    expect(res.status).toBeLessThan(500);
  });
});
