// CONTRACT.md 429 rate_limited with Retry-After. Only when the service runs with
// RATE_LIMIT_PER_MINUTE > 0 and CONFORMANCE_RATE_LIMIT_PER_MINUTE says so; run it in a
// separate pass (it spends the minute's allowance; see README.md).
import { describe, expect, it } from 'vitest';
import { authHeaders, config } from './lib/config.js';
import { get, postJson } from './lib/http.js';
import { expectCommonHeaders, expectErrorShape, header } from './lib/shapes.js';

describe.runIf(config.rateLimitPerMinute > 0)(`rate limit (${config.rateLimitPerMinute}/min)`, () => {
  it('answers 429 rate_limited with Retry-After once the allowance is spent; /health is never limited', async () => {
    const statuses: number[] = [];
    let limited;
    for (let i = 0; i < config.rateLimitPerMinute + 5; i++) {
      const res = await postJson('/v1/chat', { message: 'hello' }, authHeaders());
      statuses.push(res.status);
      if (res.status === 429) {
        limited = res;
        break;
      }
      expect(res.status, res.text).toBe(200);
    }
    expect(limited, `statuses: ${statuses.join(',')}`).toBeDefined();
    // Other files of the same pass may have spent part of the allowance already.
    expect(statuses.length - 1, 'requests allowed before the first 429').toBeGreaterThanOrEqual(1);
    const err = expectErrorShape(limited!, 429, 'rate_limited');
    expect(err.code).toBe('rate_limited');
    expectCommonHeaders(limited!);
    const ra = header(limited!, 'retry-after');
    expect(ra, 'Retry-After').toMatch(/^\d+$/);
    expect(Number(ra)).toBeGreaterThan(0);
    expect(Number(ra)).toBeLessThanOrEqual(60);

    // Liveness and readiness are never limited.
    for (let i = 0; i < 3; i++) {
      expect((await get('/health')).status).toBe(200);
      expect((await get('/ready')).status).toBe(200);
    }
  });

  it('is not bypassed by a spoofed X-Forwarded-For (only configured proxies are believed)', async () => {
    // Each request claims another client address; believed, each would get a fresh allowance.
    const statuses: number[] = [];
    for (let i = 0; i < config.rateLimitPerMinute + 5; i++) {
      const res = await postJson('/v1/chat', { message: 'hello' }, { ...authHeaders(), 'x-forwarded-for': `203.0.113.${i + 1}` });
      statuses.push(res.status);
      if (res.status === 429) break;
      expect(res.status, res.text).toBe(200);
    }
    expect(statuses.at(-1), `statuses: ${statuses.join(',')}`).toBe(429);
  });
});
