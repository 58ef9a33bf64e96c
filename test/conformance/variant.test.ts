// The service's switches, for a second pass against a service started with them
// (scripts/pipeline.sh runs it with no API_KEYS, DOCS_ENABLED=false and a rate
// limit). Every test here also holds, or is skipped, in the main pass.
import { describe, expect, it } from 'vitest';
import { config } from './lib/config.js';
import { get, postJson } from './lib/http.js';
import { expectChatShape, expectCommonHeaders, expectErrorShape } from './lib/shapes.js';

describe.runIf(!config.authOn)('auth off (no API_KEYS)', () => {
  it('answers /v1/chat and /v1/chat/stream without any key', async () => {
    const res = await postJson('/v1/chat', { message: 'hello' });
    expect(res.status, res.text).toBe(200);
    expectChatShape(res.json);
    const s = await postJson('/v1/chat/stream', { message: 'hello' });
    expect(s.status, s.text).toBe(200);
    expect(s.text).toContain('event: done');
  });
});

describe.runIf(!config.docs)('docs off', () => {
  it('/docs is 404 with the error shape', async () => {
    const res = await get('/docs');
    expectErrorShape(res, 404, 'not_found');
    expectCommonHeaders(res);
  });
});

describe('health is always open', () => {
  it('/health and /ready answer without credentials', async () => {
    expect((await get('/health')).status).toBe(200);
    expect((await get('/ready')).status).toBe(200);
  });
});
