// CONTRACT.md "Endpoints": GET /v1/usage, the calling key's token use today and its limits.
// The budgets' own exhaustion is in budget.test.ts (its own pass: it spends them).
import { describe, expect, it } from 'vitest';
import { authHeaders, config } from './lib/config.js';
import { get } from './lib/http.js';
import { expectCommonHeaders, expectErrorShape, isJsonContentType } from './lib/shapes.js';

function expectBudgetUse(use: unknown): void {
  if (use === null) return;
  const b = use as Record<string, unknown>;
  expect(Object.keys(b).sort()).toEqual(['limit_tokens', 'remaining_tokens', 'used_tokens']);
  expect(Number.isInteger(b.used_tokens) && (b.used_tokens as number) >= 0).toBe(true);
  expect(Number.isInteger(b.limit_tokens) && (b.limit_tokens as number) > 0).toBe(true);
  expect(b.remaining_tokens).toBe(Math.max(0, (b.limit_tokens as number) - (b.used_tokens as number)));
}

describe('GET /v1/usage', () => {
  it('answers the usage shape: the day, the reset, the caller key id, its budget and the service budget', async () => {
    const res = await get('/v1/usage', authHeaders());
    expect(res.status, res.text).toBe(200);
    expect(isJsonContentType(res)).toBe(true);
    expectCommonHeaders(res, '/v1/usage');
    const body = res.json;
    expect(Object.keys(body).sort()).toEqual(['date', 'key', 'key_id', 'resets_in_seconds', 'service']);
    expect(body.date).toBe(new Date().toISOString().slice(0, 10));
    expect(body.resets_in_seconds).toBeGreaterThan(0);
    expect(body.resets_in_seconds).toBeLessThanOrEqual(86_400);
    if (config.authOn) {
      expect(body.key_id).toMatch(/^[0-9a-f]{16}$/);
      expect(res.text).not.toContain(config.apiKey!);
    } else {
      expect(body.key_id).toBeNull();
    }
    expectBudgetUse(body.key);
    expectBudgetUse(body.service);
    if (config.keyTokenBudgetDaily === 0) expect(body.key).toBeNull();
    if (config.tokenBudgetDaily === 0) expect(body.service).toBeNull();
  });

  it.runIf(config.authOn)('is 401 without a key, and the key id is stable per key', async () => {
    expectErrorShape(await get('/v1/usage'), 401, 'unauthorized');
    const [a, b] = await Promise.all([get('/v1/usage', authHeaders()), get('/v1/usage', { 'x-api-key': config.apiKey! })]);
    expect(a.json.key_id).toBe(b.json.key_id);
  });

  it('is in the OpenAPI document when docs are on', async () => {
    if (!config.docs) return;
    const spec = await get('/openapi.json');
    expect(spec.status).toBe(200);
    expect(Object.keys(spec.json.paths)).toContain('/v1/usage');
  });
});
