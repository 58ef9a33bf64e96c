// CONTRACT.md POST /v1/chat: body shape, sessions, tool calls with the fake model.
import { describe, expect, it } from 'vitest';
import { authHeaders, config } from './lib/config.js';
import { postJson } from './lib/http.js';
import { expectChatShape, expectCommonHeaders, header, isJsonContentType } from './lib/shapes.js';

const chat = (body: unknown, headers: Record<string, string> = {}) => postJson('/v1/chat', body, { ...authHeaders(), ...headers });

describe('POST /v1/chat', () => {
  it('answers one turn with the contract shape', async () => {
    const res = await chat({ message: 'hello' });
    expect(res.status, res.text).toBe(200);
    expect(isJsonContentType(res)).toBe(true);
    expectCommonHeaders(res);
    expectChatShape(res.json);
    expect(res.json.answer.length).toBeGreaterThan(0);
    expect(res.json.trace_id).toBe(header(res, 'x-trace-id'));
  });

  it('starts a new session when session_id is missing, a different one each time', async () => {
    const a = await chat({ message: 'hello' });
    const b = await chat({ message: 'hello' });
    expect(a.status).toBe(200);
    expect(b.status).toBe(200);
    expect(a.json.session_id).not.toBe(b.json.session_id);
  });

  it('continues a session it returned', async () => {
    const first = await chat({ message: 'my name is Ada' });
    expect(first.status, first.text).toBe(200);
    const sid = first.json.session_id as string;
    const second = await chat({ message: 'what did I say?', session_id: sid });
    expect(second.status, second.text).toBe(200);
    expectChatShape(second.json);
    expect(second.json.session_id).toBe(sid);
    // The history goes to the model: the second turn's prompt is longer.
    expect(second.json.usage.input_tokens).toBeGreaterThan(first.json.usage.input_tokens);
  });

  it('accepts a caller-chosen session_id and user_id', async () => {
    const sid = `conf_${Date.now().toString(36)}-A`;
    const res = await chat({ message: 'hello', session_id: sid, user_id: 'user_1-x' });
    expect(res.status, res.text).toBe(200);
    expect(res.json.session_id).toBe(sid);
    const again = await chat({ message: 'again', session_id: sid, user_id: 'user_1-x' });
    expect(again.json.session_id).toBe(sid);
  });

  it('handles non-ASCII text and control characters', async () => {
    const res = await chat({ message: 'héllo wörld — 你好 👋 tab\tnewline\n\u0007' });
    expect(res.status, res.text).toBe(200);
    expectChatShape(res.json);
  });

  it('handles a NUL character in the message (200, or 422 if the service refuses it; never 500)', async () => {
    const res = await chat({ message: 'before \u0000 after' });
    expect([200, 422], res.text).toContain(res.status);
    if (res.status === 200) expectChatShape(res.json);
    // The session must still work afterwards.
    if (res.status === 200) {
      const again = await chat({ message: 'next turn', session_id: res.json.session_id });
      expect(again.status, again.text).toBe(200);
    }
  });

  it.runIf(config.fakeModel)('"what is 6*7" makes the fake model call the calculator tool', async () => {
    const res = await chat({ message: 'what is 6*7' });
    expect(res.status, res.text).toBe(200);
    expectChatShape(res.json);
    expect(res.json.tool_calls.length, JSON.stringify(res.json)).toBeGreaterThanOrEqual(1);
    const calc = res.json.tool_calls.find((t: any) => /calc/i.test(t.name));
    expect(calc, `a calculator call in ${JSON.stringify(res.json.tool_calls)}`).toBeDefined();
    expect(calc.status).toBe('ok');
    expect(res.json.answer).toContain('42');
    expect(res.json.usage.input_tokens).toBeGreaterThan(0);
    expect(res.json.usage.output_tokens).toBeGreaterThan(0);
  });

  it('handles a burst of concurrent turns', async () => {
    const results = await Promise.all(Array.from({ length: 16 }, (_, i) => chat({ message: `hello ${i}` })));
    for (const r of results) {
      expect(r.status, r.text).toBe(200);
      expectChatShape(r.json);
    }
    expect(new Set(results.map((r) => r.json.session_id)).size).toBe(16);
  });
});
