// CONTRACT.md 429 budget_exceeded: the daily token budget (TOKEN_BUDGET_DAILY) is spent.
// Only when CONFORMANCE_TOKEN_BUDGET_DAILY > 0, against a service started with that
// budget, in its own pass (it spends the budget; see README.md).
import { describe, expect, it } from 'vitest';
import { authHeaders, config } from './lib/config.js';
import { get, postJson } from './lib/http.js';
import { expectCommonHeaders, expectErrorShape, header } from './lib/shapes.js';

describe.runIf(config.tokenBudgetDaily > 0)(`token budget (${config.tokenBudgetDaily} tokens/day)`, () => {
  it('answers 429 budget_exceeded with Retry-After once the budget is spent; /health stays 200', async () => {
    const statuses: number[] = [];
    let spent;
    for (let i = 0; i < 200; i++) {
      const res = await postJson('/v1/chat', { message: `spend the budget ${i}` }, authHeaders());
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
    const s = await postJson('/v1/chat/stream', { message: 'more' }, authHeaders());
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
