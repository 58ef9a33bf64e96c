// CONTRACT.md "Endpoints": /health, /ready, /openapi.json, /docs, unknown routes.
import { describe, expect, it } from 'vitest';
import { authHeaders, config } from './lib/config.js';
import { get, request } from './lib/http.js';
import { expectCommonHeaders, expectErrorShape, header, isJsonContentType } from './lib/shapes.js';

describe('GET /health', () => {
  it('is 200 {"status":"ok","version","uptime_seconds"} without any credentials', async () => {
    const res = await get('/health');
    expect(res.status, res.text).toBe(200);
    expect(isJsonContentType(res)).toBe(true);
    expectCommonHeaders(res, '/health');
    expect(res.json.status).toBe('ok');
    expect(res.json.version).toBeTypeOf('string');
    expect(res.json.version.length).toBeGreaterThan(0);
    expect(res.json.uptime_seconds).toBeTypeOf('number');
    expect(res.json.uptime_seconds).toBeGreaterThanOrEqual(0);
  });

  it('is not authenticated even with a wrong key', async () => {
    const res = await get('/health', { authorization: 'Bearer definitely-wrong', 'x-api-key': 'wrong' });
    expect(res.status, res.text).toBe(200);
  });

  it('uptime grows', async () => {
    const a = (await get('/health')).json.uptime_seconds as number;
    await new Promise((r) => setTimeout(r, 1100));
    const b = (await get('/health')).json.uptime_seconds as number;
    expect(b).toBeGreaterThan(a);
  });
});

describe('GET /ready', () => {
  it('is 200 {"status":"ready","checks":{dep:"ok"}} without credentials', async () => {
    const res = await get('/ready');
    expect(res.status, res.text).toBe(200);
    expect(isJsonContentType(res)).toBe(true);
    expectCommonHeaders(res, '/ready');
    expect(res.json.status).toBe('ready');
    expect(res.json.checks).toBeTypeOf('object');
    expect(res.json.checks).not.toBeNull();
    for (const [dep, v] of Object.entries(res.json.checks)) expect(v, `check ${dep}`).toBe('ok');
  });
});

describe('GET /openapi.json', () => {
  it.runIf(config.docs)('describes both chat endpoints', async () => {
    const res = await get('/openapi.json', authHeaders());
    expect(res.status, res.text.slice(0, 200)).toBe(200);
    expect(isJsonContentType(res)).toBe(true);
    expectCommonHeaders(res, '/openapi.json');
    expect(String(res.json.openapi)).toMatch(/^3\./);
    expect(Object.keys(res.json.paths)).toEqual(expect.arrayContaining(['/v1/chat', '/v1/chat/stream']));
    expect(Object.keys(res.json.paths['/v1/chat'])).toContain('post');
    expect(Object.keys(res.json.paths['/v1/chat/stream'])).toContain('post');
  });
});

describe('GET /docs', () => {
  it.runIf(config.docs)('serves an HTML page when docs are on', async () => {
    const res = await get('/docs', authHeaders());
    expect(res.status).toBe(200);
    expect(header(res, 'content-type')).toMatch(/^text\/html/);
    expectCommonHeaders(res, '/docs');
  });

  it.runIf(!config.docs)('is 404 with the error shape when docs are off', async () => {
    const res = await get('/docs', authHeaders());
    expectErrorShape(res, 404, 'not_found', '/docs off');
    expectCommonHeaders(res, '/docs off');
  });
});

describe('unknown routes', () => {
  for (const [method, path] of [
    ['GET', '/no-such-route'],
    ['GET', '/v1/no-such-route'],
    ['POST', '/v1/chat/no-such-route'],
    ['GET', '/v2/chat'],
    ['DELETE', '/health/x'],
  ] as const) {
    it(`${method} ${path} is 404 not_found`, async () => {
      const res = await request({
        method,
        path,
        headers: { ...authHeaders(), 'content-type': 'application/json' },
        body: method === 'POST' ? '{"message":"hi"}' : undefined,
      });
      expectErrorShape(res, 404, 'not_found', `${method} ${path}`);
      expectCommonHeaders(res, `${method} ${path}`);
    });
  }

  it('a wrong method on a known route is a 4xx JSON error, never 5xx', async () => {
    for (const [method, path] of [
      ['GET', '/v1/chat'],
      ['PUT', '/v1/chat'],
      ['DELETE', '/v1/chat/stream'],
      ['POST', '/health'],
    ] as const) {
      const res = await request({ method, path, headers: authHeaders() });
      expect(res.status, `${method} ${path}`).toBeGreaterThanOrEqual(400);
      expect(res.status, `${method} ${path}`).toBeLessThan(500);
      expectErrorShape(res, null, null, `${method} ${path}`);
      expectCommonHeaders(res, `${method} ${path}`);
    }
  });
});
