// CONTRACT.md 429 budget_exceeded: a daily token budget is spent, the API key's
// (KEY_TOKEN_BUDGET_DAILY, first) then the service's (TOKEN_BUDGET_DAILY).
// Only when CONFORMANCE_TOKEN_BUDGET_DAILY > 0, against a service started with that
// budget, in its own pass (it spends the budget; see README.md). With
// CONFORMANCE_KEY_TOKEN_BUDGET_DAILY > 0 (below the service's) and a second key, the
// first key spends its own budget, and the second one the rest of the service's.
import { describe, expect, it } from 'vitest';
import { authHeaders, config, secondKeyHeaders } from './lib/config.js';
import { get, postJson } from './lib/http.js';
import { expectCommonHeaders, expectErrorShape, header } from './lib/shapes.js';

const perKey = config.keyTokenBudgetDaily > 0 && config.secondApiKey !== undefined;

describe.runIf(config.tokenBudgetDaily > 0)(`token budget (${config.tokenBudgetDaily} tokens/day)`, () => {
  it.runIf(perKey)(`a key's own budget (${config.keyTokenBudgetDaily} tokens/day): 429 for that key only, /v1/usage shows it`, async () => {
    let spent;
    let turns = 0;
    for (; turns < 200; turns++) {
      const res = await postJson('/v1/chat', { message: `spend the key budget ${turns}` }, authHeaders());
      if (res.status === 429) {
        spent = res;
        break;
      }
      expect(res.status, res.text).toBe(200);
    }
    expect(spent, `no 429 after ${turns} turns`).toBeDefined();
    expectErrorShape(spent!, 429, 'budget_exceeded');
    const ra = Number(header(spent!, 'retry-after'));
    expect(ra).toBeGreaterThan(0);
    expect(ra).toBeLessThanOrEqual(86_400);
    // the stream is refused before it starts; /v1/usage still answers
    expectErrorShape(await postJson('/v1/chat/stream', { message: 'more' }, authHeaders()), 429, 'budget_exceeded');
    const usage = await get('/v1/usage', authHeaders());
    expect(usage.status, usage.text).toBe(200);
    expect(usage.json.key.limit_tokens).toBe(config.keyTokenBudgetDaily);
    expect(usage.json.key.used_tokens).toBeGreaterThanOrEqual(config.keyTokenBudgetDaily);
    expect(usage.json.key.remaining_tokens).toBe(0);
    // the service's counter holds every key's tokens (with a shared store, earlier services' too)
    expect(usage.json.service.used_tokens).toBeGreaterThanOrEqual(usage.json.key.used_tokens);
    const firstId = usage.json.key_id as string;
    expect(firstId).toMatch(/^[0-9a-f]{16}$/);
    // another key is not affected
    const other = await postJson('/v1/chat', { message: 'another key' }, secondKeyHeaders());
    expect(other.status, other.text).toBe(200);
    const otherUsage = (await get('/v1/usage', secondKeyHeaders())).json;
    expect(otherUsage.key_id).not.toBe(firstId);
    expect(otherUsage.key.used_tokens).toBe(other.json.usage.input_tokens + other.json.usage.output_tokens);
    const m = await get('/metrics', authHeaders());
    if (m.status === 200) {
      const gauge = new RegExp(`^agent_key_token_budget_used_ratio\\{[^}]*key_id="${firstId}"[^}]*\\} (\\S+)$`, 'm').exec(m.text);
      expect(gauge, 'agent_key_token_budget_used_ratio has the spent key').not.toBeNull();
      expect(Number(gauge![1])).toBe(1);
      expect(m.text).not.toContain(config.apiKey!);
    }
  });

  it('answers 429 budget_exceeded with Retry-After once the budget is spent; /health stays 200', async () => {
    // after the per-key test the first key is spent: the second one spends the rest
    const headers = perKey ? secondKeyHeaders() : authHeaders();
    const statuses: number[] = [];
    let spent;
    for (let i = 0; i < 200; i++) {
      const res = await postJson('/v1/chat', { message: `spend the budget ${i}` }, headers);
      statuses.push(res.status);
      if (res.status === 429) {
        spent = res;
        break;
      }
      expect(res.status, res.text).toBe(200);
    }
    expect(spent, `no 429 after ${statuses.length} turns`).toBeDefined();
    const err = expectErrorShape(spent!, 429, 'budget_exceeded');
    expect(err.code).toBe('budget_exceeded');
    expectCommonHeaders(spent!);
    const ra = header(spent!, 'retry-after');
    expect(ra, 'Retry-After').toMatch(/^\d+$/);
    expect(Number(ra)).toBeGreaterThan(0);
    expect(Number(ra), 'at most until the next UTC day').toBeLessThanOrEqual(86_400);
    // Streams are refused too, with the same error before any event.
    if (perKey) {
      // the service's budget, not the key's: the key has tokens left
      const usage = (await get('/v1/usage', headers)).json;
      expect(usage.service.remaining_tokens).toBe(0);
      expect(usage.key.remaining_tokens).toBeGreaterThan(0);
    }
    const s = await postJson('/v1/chat/stream', { message: 'more' }, headers);
    expect([429, 200]).toContain(s.status);
    if (s.status === 429) expectErrorShape(s, 429, 'budget_exceeded');
    else expect(s.text).toMatch(/event: error\ndata: .*budget_exceeded/);
    expect((await get('/health')).status).toBe(200);

    const m = await get('/metrics', authHeaders());
    if (m.status === 200) {
      const ratio = /^agent_token_budget_used_ratio(?:\{[^}]*\})? (\S+)$/m.exec(m.text);
      expect(ratio, 'agent_token_budget_used_ratio has a sample').not.toBeNull();
      expect(Number(ratio![1])).toBeGreaterThanOrEqual(0.8);
    }
  });
});
