// CONTRACT.md POST /v1/chat/stream: text/event-stream framing and events.
import http from 'node:http';
import { describe, expect, it } from 'vitest';
import { authHeaders, config } from './lib/config.js';
import { postJson, url } from './lib/http.js';
import { parseSse, type SseEvent } from './lib/sse.js';
import { expectChatShape, expectCommonHeaders, expectErrorShape, header } from './lib/shapes.js';

const stream = (body: unknown, headers: Record<string, string> = {}) =>
  postJson('/v1/chat/stream', body, { accept: 'text/event-stream', ...authHeaders(), ...headers });

/** Checks the framing rules and returns the parsed events. */
function expectValidStream(text: string): SseEvent[] {
  const { events, trailing } = parseSse(text);
  expect(trailing, 'the stream ends with a complete event').toBe('');
  expect(events.length).toBeGreaterThan(0);
  const terminal = events.filter((e) => e.event === 'done' || e.event === 'error');
  expect(terminal.length, `exactly one done or error: ${events.map((e) => e.event).join(',')}`).toBe(1);
  expect(events.at(-1), 'the done/error event is the last one').toBe(terminal[0]);
  for (const e of events) {
    expect(['token', 'tool', 'done', 'error'], `event type ${e.event}`).toContain(e.event);
    let data: any;
    expect(() => (data = JSON.parse(e.data)), `data of ${e.event} is JSON: ${e.data}`).not.toThrow();
    if (e.event === 'token') {
      expect(Object.keys(data)).toEqual(['delta']);
      expect(data.delta).toBeTypeOf('string');
    } else if (e.event === 'tool') {
      expect(data.name).toBeTypeOf('string');
      expect(['ok', 'error']).toContain(data.status);
    } else if (e.event === 'done') {
      expectChatShape(data, 'done');
    } else {
      expect(Object.keys(data)).toEqual(['error']);
      expect(data.error.code).toBeTypeOf('string');
      expect(data.error.message).toBeTypeOf('string');
      expect(Array.isArray(data.error.details)).toBe(true);
    }
  }
  return events;
}

describe('POST /v1/chat/stream', () => {
  it('streams tokens then exactly one done with the /v1/chat shape', async () => {
    const res = await stream({ message: 'hello' });
    expect(res.status, res.text).toBe(200);
    expect(header(res, 'content-type')).toMatch(/^text\/event-stream/);
    expectCommonHeaders(res);
    const events = expectValidStream(res.text);
    const tokens = events.filter((e) => e.event === 'token');
    expect(tokens.length).toBeGreaterThan(0);
    const done = JSON.parse(events.at(-1)!.data);
    expect(events.at(-1)!.event).toBe('done');
    expect(done.trace_id).toBe(header(res, 'x-trace-id'));
    expect(tokens.map((t) => JSON.parse(t.data).delta).join('')).toBe(done.answer);
  });

  it('is not buffered: the first event arrives before the last', async () => {
    // Two timestamps from one response: when the first bytes arrived and when it ended.
    const u = url('/v1/chat/stream');
    const body = JSON.stringify({ message: 'tell me a longer story please' });
    const times = await new Promise<{ first: number; end: number; status: number }>((resolve, reject) => {
      const t0 = performance.now();
      let first = -1;
      const r = http.request(
        { hostname: u.hostname, port: u.port, path: u.pathname, method: 'POST', headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body), ...authHeaders() } },
        (res) => {
          res.on('data', () => {
            if (first < 0) first = performance.now() - t0;
          });
          res.on('end', () => resolve({ first, end: performance.now() - t0, status: res.statusCode ?? 0 }));
          res.on('error', reject);
        },
      );
      r.on('error', reject);
      r.end(body);
    });
    expect(times.status).toBe(200);
    expect(times.first).toBeGreaterThanOrEqual(0);
    expect(times.first).toBeLessThanOrEqual(times.end);
  });

  it('continues a session across /v1/chat and /v1/chat/stream', async () => {
    const first = await postJson('/v1/chat', { message: 'remember me' }, authHeaders());
    expect(first.status, first.text).toBe(200);
    const res = await stream({ message: 'still there?', session_id: first.json.session_id });
    expect(res.status, res.text).toBe(200);
    const done = JSON.parse(expectValidStream(res.text).at(-1)!.data);
    expect(done.session_id).toBe(first.json.session_id);
  });

  it.runIf(config.fakeModel)('shows the calculator tool event before done for "what is 6*7"', async () => {
    const res = await stream({ message: 'what is 6*7' });
    expect(res.status, res.text).toBe(200);
    const events = expectValidStream(res.text);
    const tools = events.filter((e) => e.event === 'tool').map((e) => JSON.parse(e.data));
    expect(tools.length, res.text).toBeGreaterThanOrEqual(1);
    expect(tools.some((t) => /calc/i.test(t.name) && t.status === 'ok')).toBe(true);
    const done = JSON.parse(events.at(-1)!.data);
    expect(events.at(-1)!.event).toBe('done');
    expect(done.answer).toContain('42');
    expect(done.tool_calls.map((t: any) => t.name)).toEqual(tools.map((t) => t.name));
  });

  it('rejects an invalid body with a JSON 422 before streaming', async () => {
    const res = await stream({ message: '' });
    expectErrorShape(res, 422, 'validation_error');
  });

  it('survives a client that disconnects mid-stream', async () => {
    const u = url('/v1/chat/stream');
    const body = JSON.stringify({ message: 'a stream I will abandon' });
    await new Promise<void>((resolve) => {
      const r = http.request(
        { hostname: u.hostname, port: u.port, path: u.pathname, method: 'POST', agent: false, headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body), ...authHeaders() } },
        (res) => {
          res.once('data', () => {
            r.destroy();
            resolve();
          });
          res.on('end', () => resolve());
        },
      );
      r.on('error', () => resolve());
      r.end(body);
    });
    // The service still answers.
    const res = await stream({ message: 'hello' });
    expect(res.status).toBe(200);
    expectValidStream(res.text);
  });

  it('handles concurrent streams', async () => {
    const results = await Promise.all(Array.from({ length: 12 }, (_, i) => stream({ message: `hello ${i}` })));
    for (const r of results) {
      expect(r.status, r.text).toBe(200);
      expect(expectValidStream(r.text).at(-1)!.event).toBe('done');
    }
  });
});
