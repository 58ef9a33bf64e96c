// CONTRACT.md "Cost controls": fallback models and the response cache, against a
// service whose LLM_BASE_URL is a failing primary and whose LLM_FALLBACK_MODELS
// names a spare on another base URL; this file starts both endpoints on the
// ports CONFORMANCE_FALLBACK_PRIMARY_PORT / _SPARE_PORT (its own pass: the
// service has no fake model). See README.md.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { authHeaders, config } from './lib/config.js';
import { get, postJson } from './lib/http.js';
import { type Endpoint, startFailingPrimary, startSpare } from './lib/model-endpoints.js';
import { expectChatShape } from './lib/shapes.js';
import { parseSse } from './lib/sse.js';

const enabled = config.fallbackPrimaryPort > 0 && config.fallbackSparePort > 0;

describe.runIf(enabled)('fallback models (a failing primary, a spare)', () => {
  let primary: Endpoint;
  let spare: Endpoint;
  beforeAll(async () => {
    primary = await startFailingPrimary(config.fallbackPrimaryPort);
    spare = await startSpare(config.fallbackSparePort);
  });
  afterAll(async () => {
    await primary?.close();
    await spare?.close();
  });

  const primaryCalls = (message: string) => primary.calls.filter((c) => c.message === message).length;
  const spareModel = () => spare.calls.at(-1)?.model;

  it.each([
    ['a 503 after the retries', `fallback 503 ${Date.now()}`],
    ['a 429 with a Retry-After past the limit', `primary:429-long ${Date.now()}`],
    ['a timeout (LLM_TIMEOUT)', `primary:hang ${Date.now()}`],
  ])('%s: the spare answers and the response names it', async (_, message) => {
    const res = await postJson('/v1/chat', { message }, authHeaders());
    expect(res.status, res.text).toBe(200);
    expectChatShape(res.json);
    expect(res.json.answer).toBe(`spare answered: ${message}`);
    expect(primaryCalls(message), 'the primary was asked first').toBeGreaterThanOrEqual(1);
    expect(spareModel()).toBeTruthy();
    expect(res.json.model).toBe(spareModel());
    expect(res.json.model).not.toBe(primary.calls.at(-1)?.model);
  });

  it('a stream falls back before its first token', async () => {
    const message = `stream fallback ${Date.now()}`;
    const res = await postJson('/v1/chat/stream', { message }, authHeaders());
    expect(res.status, res.text).toBe(200);
    const { events } = parseSse(res.text);
    expect(events.map((e) => e.event).at(-1)).toBe('done');
    const text = events
      .filter((e) => e.event === 'token')
      .map((e) => JSON.parse(e.data).delta)
      .join('');
    expect(text).toBe(`spare answered: ${message}`);
    const done = JSON.parse(events.at(-1)!.data);
    expect(done.model).toBe(spareModel());
    expect(primaryCalls(message)).toBeGreaterThanOrEqual(1);
  });

  it('the model label counts the failed primary and the spare apart', async () => {
    const m = await get('/metrics', authHeaders());
    if (m.status !== 200) return; // a stack that pushes its metrics (otel) or has none
    const primaryModel = primary.calls.at(-1)!.model;
    const sample = (model: string, status: string) =>
      new RegExp(`^agent_llm_calls_total\\{(?=[^}]*model="${model}")(?=[^}]*status="${status}")[^}]*\\} (\\S+)$`, 'm').exec(m.text);
    expect(Number(sample(primaryModel, 'error')?.[1])).toBeGreaterThanOrEqual(4);
    expect(Number(sample(spareModel()!, 'ok')?.[1])).toBeGreaterThanOrEqual(4);
  });

  describe.runIf(config.responseCacheTtlSeconds > 0)('the response cache', () => {
    it('answers a repeated first turn without a model call, per API key', async () => {
      const message = `cache me ${Date.now()}`;
      const first = await postJson('/v1/chat', { message }, authHeaders());
      expect(first.status, first.text).toBe(200);
      const spareCalls = spare.calls.length;
      const again = await postJson('/v1/chat', { message: ` ${message}  ` }, authHeaders());
      expect(again.status, again.text).toBe(200);
      expectChatShape(again.json);
      expect(again.json.answer).toBe(first.json.answer);
      expect(again.json.usage).toMatchObject({ input_tokens: 0, output_tokens: 0, cached_input_tokens: 0 });
      expect(again.json.session_id).not.toBe(first.json.session_id);
      expect(spare.calls.length, 'no model call for a hit').toBe(spareCalls);
      if (config.secondApiKey) {
        const other = await postJson('/v1/chat', { message }, { authorization: `Bearer ${config.secondApiKey}` });
        expect(other.status, other.text).toBe(200);
        expect(other.json.usage.input_tokens, 'another key has its own entries').toBeGreaterThan(0);
        expect(spare.calls.length).toBe(spareCalls + 1);
      }
      const m = await get('/metrics', authHeaders());
      if (m.status === 200) {
        expect(m.text).toMatch(/^agent_response_cache_lookups_total\{result="hit"\} [1-9]/m);
        expect(m.text).toMatch(/^agent_response_cache_lookups_total\{result="miss"\} [1-9]/m);
      }
    });
  });
});
